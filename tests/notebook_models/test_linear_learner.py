"""The linear-learner model computed from its artifact is the model AWS served: checked against AWS's own outputs."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from tests.aws_fixtures import aws_fixture
from tests.notebook_models import linear_learner
from tests.notebook_models.models import LINEAR_LEARNER_TARBALL, NOTEBOOKS
from tests.notebook_models.mxnet_params import ParamsFormatError, read_ndarray_list

ADULT = "adult-clarify-bias-and-explainability"
RECORDED = NOTEBOOKS / "linear-learner-recorded-outputs"
SEX = 9  # column of the facet; Sex == 0 is the disadvantaged group d


@pytest.fixture(scope="module")
def model() -> linear_learner.LinearLearner:
    return linear_learner.load(LINEAR_LEARNER_TARBALL)


def _validation() -> tuple[np.ndarray, np.ndarray]:
    instances = json.loads(aws_fixture(ADULT, "validation-dataset.json").read_text())["instances"]
    return np.array([r["features"] for r in instances]), np.array([r["label"] for r in instances])


def _write_ndarray_list(arrays: dict[str, np.ndarray]) -> bytes:
    """MXNet's layout written independently of the reader, to check the reader on arrays we choose."""
    out = struct.pack("<QQQ", 0x112, 0, len(arrays))
    for array in arrays.values():
        flag = {np.dtype("float32"): 0, np.dtype("float64"): 1, np.dtype("int32"): 4}[array.dtype]
        out += struct.pack("<Ii", 0xF993FAC9, 0) + struct.pack(f"<I{array.ndim}q", array.ndim, *array.shape)
        out += struct.pack("<iii", 1, 0, flag) + array.astype(array.dtype.newbyteorder("<")).tobytes()
    out += struct.pack("<Q", len(arrays))
    for name in arrays:
        out += struct.pack("<Q", len(name.encode())) + name.encode()
    return out


def test_reader_returns_the_arrays_written_in_mxnet_layout() -> None:
    arrays = {
        "arg:w": np.arange(6, dtype=np.float32).reshape(3, 2) / 7,
        "aux:n": np.array([1.5, -2.25]),
        "arg:i": np.array([[4], [5]], dtype=np.int32),
    }
    read = read_ndarray_list(_write_ndarray_list(arrays))
    assert list(read) == list(arrays)
    for name, array in arrays.items():
        assert read[name].dtype == array.dtype and np.array_equal(read[name], array)


def test_reader_refuses_truncated_and_foreign_files() -> None:
    good = _write_ndarray_list({"arg:w": np.ones((2, 1), dtype=np.float32)})
    with pytest.raises(ParamsFormatError, match="truncated"):
        read_ndarray_list(good[:40])
    with pytest.raises(ParamsFormatError, match="list magic"):
        read_ndarray_list(b"\x00" * 24)
    with pytest.raises(ParamsFormatError, match="left after"):
        read_ndarray_list(good + b"junk")


def test_artifact_holds_14_weights_a_bias_and_the_trained_threshold(model: linear_learner.LinearLearner) -> None:
    assert model.weight.dtype == np.float32 and model.num_features == 14
    assert model.threshold == np.float32(0.46301859617233276)


def test_score_of_the_shap_baseline_row_is_awss_expected_value_bit_for_bit(model: linear_learner.LinearLearner) -> None:
    """Clarify's expected_value is the model's score on the one baseline row; AWS's is float32 widened to double."""
    analysis = json.loads(aws_fixture(ADULT, "explainability-baseline-analysis.json").read_text())
    (result,) = analysis["explanations"]["kernel_shap"].values()
    baseline = np.array([[39, 2, 184870, 10, 10, 3, 6, 1, 4, 1, 1597, 61, 41, 37]])
    score = model.scores(baseline)[0]
    assert score.dtype == np.float32
    assert float(score) == result["expected_value"] == 0.2506232261657715


def _post_training_metrics(labels: np.ndarray, predicted: np.ndarray, facet_d: np.ndarray) -> dict[str, float]:
    """Clarify's published definitions (a = advantaged, d = Sex == 0), in plain numpy."""
    a = ~facet_d

    def count(mask: np.ndarray, label: int | None = None, prediction: int | None = None) -> int:
        keep = mask.copy()
        if label is not None:
            keep &= labels == label
        if prediction is not None:
            keep &= predicted == prediction
        return int(keep.sum())

    def rate(group: np.ndarray) -> dict[str, float]:
        tp, fp = count(group, 1, 1), count(group, 0, 1)
        tn, fn = count(group, 0, 0), count(group, 1, 0)
        return {
            "q": count(group, prediction=1) / count(group),
            "accuracy": (tp + tn) / count(group),
            "recall": tp / (tp + fn),
            "precision": tp / (tp + fp),
            "rejection_precision": tn / (tn + fn),
            "specificity": tn / (tn + fp),
            "acceptance": count(group, label=1) / count(group, prediction=1),
            "rejection": count(group, label=0) / count(group, prediction=0),
            "fn_over_fp": fn / fp,
        }

    ra, rd = rate(a), rate(facet_d)
    return {
        "DPPL": ra["q"] - rd["q"],
        "DI": rd["q"] / ra["q"],
        "AD": ra["accuracy"] - rd["accuracy"],
        "RD": ra["recall"] - rd["recall"],
        "DAR": ra["precision"] - rd["precision"],
        "DRR": rd["rejection_precision"] - ra["rejection_precision"],
        "SD": rd["specificity"] - ra["specificity"],
        "DCA": ra["acceptance"] - rd["acceptance"],
        "DCR": rd["rejection"] - ra["rejection"],
        "TE": rd["fn_over_fp"] - ra["fn_over_fp"],
    }


def test_predicted_labels_reproduce_awss_post_training_bias_baseline(model: linear_learner.LinearLearner) -> None:
    """AWS's baseline took these labels from the model's answers: the metrics must come out equal, not close."""
    features, labels = _validation()
    _, predicted = model.predict(features)
    analysis = json.loads(aws_fixture(ADULT, "bias-baseline-analysis.json").read_text())
    (facet,) = analysis["post_training_bias_metrics"]["facets"]["Sex"]
    recorded = {metric["name"]: metric["value"] for metric in facet["metrics"]}
    mine = _post_training_metrics(labels, predicted, features[:, SEX] == 0)
    assert mine["DPPL"] == recorded["DPPL"] == 0.2199248120300752
    assert mine["AD"] == recorded["AD"] == -0.15156641604010024
    assert mine == {name: recorded[name] for name in mine}


def test_a_threshold_of_one_half_would_not_reproduce_the_baseline(model: linear_learner.LinearLearner) -> None:
    """Why the server reads the artifact's threshold: at 0.5 the baseline's DPPL does not come out."""
    features, labels = _validation()
    scores, _ = model.predict(features)
    at_half = _post_training_metrics(labels, (scores > 0.5).astype(np.int64), features[:, SEX] == 0)
    recorded = json.loads(aws_fixture(ADULT, "bias-baseline-analysis.json").read_text())
    dppl = next(m for m in recorded["post_training_bias_metrics"]["facets"]["Sex"][0]["metrics"] if m["name"] == "DPPL")
    assert at_half["DPPL"] != dppl["value"]


def test_scores_of_awss_batch_transform_within_a_few_float32_steps(model: linear_learner.LinearLearner) -> None:
    """334 rows AWS's container scored: every label equal; scores equal or off by the summation order only."""
    output = json.loads((RECORDED / "batch-transform-output.json").read_text())
    features = np.array([instance["features"] for instance in output["instances"]])
    recorded = output["SageMakerOutput"]["predictions"]
    scores, predicted = model.predict(features)
    assert predicted.tolist() == [p["predicted_label"] for p in recorded]
    difference = np.abs(scores.astype(np.float64) - np.array([p["score"] for p in recorded]))
    assert difference.max() <= 3e-7  # measured 2.98e-7 (float32 steps near 1 are 6e-8)
    assert int((difference == 0).sum()) >= 180  # measured 185 of 334 bit-equal


def test_artifact_with_another_graph_is_refused() -> None:
    symbol = {"nodes": [{"op": "null"}, {"op": "FullyConnected"}, {"op": "LogisticRegressionOutput"}]}
    with pytest.raises(ParamsFormatError, match="graph"):
        linear_learner._check_graph(symbol)

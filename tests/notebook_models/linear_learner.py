"""SageMaker's linear-learner binary classifier, computed from its model artifact without MXNet.

The artifact (`model.tar.gz`) holds `model_algo-1`, a zip of `mx-mod-symbol.json` (the MXNet graph),
`mx-mod-0000.params` (its weights) and `additional-params.json` (predictor type and the decision threshold that
training picked). The notebook model's graph is `LogisticRegressionOutput(broadcast_add(dot(data, fc0_weight),
fc0_bias))`: no normalisation arrays are stored, the weights apply to raw features. Any other graph or parameter
is refused rather than guessed.

Arithmetic is float32 as MXNet's forward pass: the dot product and bias add in float32, then
`1.0f / (1.0f + expf(-z))` with a correctly rounded expf. The order in which MXNet's BLAS sums the 14 products is
not known (none of the orders tried reproduces every recorded score), so ours sums feature by feature: the SHAP
baseline row's score comes out bit-equal to AWS's, and 185 of the 334 scores of AWS's recorded batch transform;
the rest are within 3e-7 (a few float32 steps), and every predicted_label is AWS's.

`predicted_label` is score > threshold: the artifact's threshold (0.46301859617233276 here), not 0.5 — AWS's
bias baseline's post-training metrics only come out with it. Whether the container compares with > or >= is not
known (no recorded score equals the threshold).
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.notebook_models.float32 import sigmoid32
from tests.notebook_models.mxnet_params import ParamsFormatError, read_ndarray_list

GRAPH_OPS = ["dot", "broadcast_add", "LogisticRegressionOutput"]
PARAM_NAMES = {"arg:fc0_weight", "arg:fc0_bias"}


@dataclass(frozen=True)
class LinearLearner:
    weight: np.ndarray  # (features,) float32
    bias: np.float32
    threshold: np.float32

    @property
    def num_features(self) -> int:
        return int(self.weight.size)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """The sigmoid of the linear score, float32, one per row."""
        rows = np.asarray(rows, dtype=np.float32)
        # Feature by feature in float32, not a BLAS dot: BLAS picks its summation order by CPU, and the same
        # answer on every machine matters more here than the last bit (see the module docstring).
        logits = np.zeros(rows.shape[0], dtype=np.float32)
        for column, weight in enumerate(self.weight):
            logits += rows[:, column] * weight
        return sigmoid32(logits + self.bias)

    def predict(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score float32, predicted_label int) per row."""
        scores = self.scores(rows)
        return scores, (scores > self.threshold).astype(np.int64)


def _check_graph(symbol: dict) -> None:
    ops = [node["op"] for node in symbol["nodes"] if node["op"] != "null"]
    if ops != GRAPH_OPS:
        raise ParamsFormatError(f"graph {ops} is not the binary classifier {GRAPH_OPS} this server computes")


def from_model_zip(data: bytes) -> LinearLearner:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        symbol = json.loads(archive.read("mx-mod-symbol.json"))
        params = read_ndarray_list(archive.read("mx-mod-0000.params"))
        extra = json.loads(archive.read("additional-params.json"))
    _check_graph(symbol)
    if set(params) != PARAM_NAMES:
        raise ParamsFormatError(f"parameters {sorted(params)} are not {sorted(PARAM_NAMES)}")
    if extra.get("predictor_type") != "binary_classifier":
        raise ParamsFormatError(f"predictor_type {extra.get('predictor_type')!r} is not supported")
    weight = params["arg:fc0_weight"]
    if weight.ndim != 2 or weight.shape[1] != 1 or params["arg:fc0_bias"].size != 1:
        raise ParamsFormatError(f"weight shape {weight.shape} is not (features, 1)")
    return LinearLearner(
        weight=weight[:, 0].astype(np.float32),
        bias=np.float32(params["arg:fc0_bias"].reshape(-1)[0]),
        threshold=np.float32(extra.get("threshold", 0.5)),
    )


def load(tarball: Path) -> LinearLearner:
    """The model of a linear-learner `model.tar.gz`."""
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("model_algo-1")
        if member is None:
            raise ParamsFormatError(f"{tarball} has no model_algo-1")
        return from_model_zip(member.read())

"""The analysis.json document against AWS's real explainability baseline, and the local values file."""

from __future__ import annotations

import json

import numpy as np

from tests.aws_fixtures import aws_fixture
from watchkeeper.analysis.explain.kernel_shap import aggregate, explain
from watchkeeper.analysis.explain.report import explanation_analysis, label_names, local_shap_rows

ADULT = aws_fixture("adult-clarify-bias-and-explainability")
HEADERS = ["Age", "Workclass", "fnlwgt", "Education", "Education-Num", "Marital Status", "Occupation",
           "Relationship", "Ethnic group", "Sex", "Capital Gain", "Capital Loss", "Hours per week", "Country"]
BASELINE = np.array([[39, 2, 184870, 10, 10, 3, 6, 1, 4, 1, 1597, 61, 41, 37]], dtype=float)


def real_document() -> tuple[str, dict]:
    text = (ADULT / "explainability-baseline-analysis.json").read_text()
    return text, json.loads(text)


def test_document_is_the_real_files_shape_exactly():
    text, real = real_document()
    (label, entry), = real["explanations"]["kernel_shap"].items()
    values = np.array([entry["global_shap_values"][h] for h in HEADERS])
    ours = explanation_analysis(HEADERS, [label], values[:, None], np.array([entry["expected_value"]]))
    assert ours == real
    assert json.dumps(ours, indent=4) == text.rstrip("\n")  # keys, nesting and order as AWS's file


def test_adult_records_explained_like_the_real_baseline_job():
    # the notebook's job: the validation dataset, one baseline row, num_samples 100, mean_abs. AWS's model is
    # not in the repository, so a logistic stand-in scores; the document must still have AWS's shape, and
    # expected_value is the model's mean score over the baseline rows (one row here).
    instances = json.loads((ADULT / "validation-dataset.json").read_text())["instances"]
    records = np.array([row["features"] for row in instances], dtype=float)
    scale = records.std(axis=0) + 1.0

    def model(rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-((rows - BASELINE) / scale) @ np.linspace(-0.8, 0.8, 14) + 1.1))

    result = explain(model, records, BASELINE, num_samples=100, seed=0)
    document = explanation_analysis(HEADERS, label_names(None, 1), aggregate(result.local, "mean_abs"),
                                    result.expected_value)
    _, real = real_document()
    ours_entry = document["explanations"]["kernel_shap"]["label0"]
    real_entry = next(iter(real["explanations"]["kernel_shap"].values()))
    assert list(document) == list(real) and list(document["explanations"]) == list(real["explanations"])
    assert list(ours_entry) == list(real_entry)
    assert list(ours_entry["global_shap_values"]) == list(real_entry["global_shap_values"])
    assert ours_entry["expected_value"] == float(model(BASELINE)[0])
    assert result.model_calls == 1 and result.rows_sent == 1 + len(records) * (1 + 100)


def test_label_names():
    assert label_names(None, 2) == ["label0", "label1"]
    assert label_names(["no", "yes"], 2) == ["no", "yes"]
    assert label_names(["only one"], 2) == ["label0", "label1"]


def test_local_rows_label_major_with_join_source():
    local = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)  # records x features x labels
    columns, values = local_shap_rows(["a", "b", "c"], ["label0", "label1"], local)
    assert columns == ["a_label0", "b_label0", "c_label0", "a_label1", "b_label1", "c_label1"]
    assert values[1].tolist() == [local[1, 0, 0], local[1, 1, 0], local[1, 2, 0],
                                  local[1, 0, 1], local[1, 1, 1], local[1, 2, 1]]
    columns, table = local_shap_rows(["a", "b", "c"], ["label0", "label1"], local, join_source=("id", ["x", "y"]))
    assert columns[0] == "id" and table[:, 0].tolist() == ["x", "y"] and table[0, 1] == local[0, 0, 0]

"""Reproduce what AWS computed for the churn model-quality baseline and its executions (spec §12.2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.model_quality.artifacts import (
    RUN_A,
    RUN_B,
    VALIDATION_CSV,
    VIOLATION_TEXT,
    displayed_constraints,
    displayed_statistics,
    execution_counts,
    execution_violations,
)
from watchkeeper.analysis import model_quality as mq
from watchkeeper.analysis import model_quality_metrics as mqm
from watchkeeper.analysis import model_quality_states as mqs
from watchkeeper.analysis.aws_json import java_double
from watchkeeper.jobs.analyzers.registry import run_environment


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    out = tmp_path_factory.mktemp("churn-mq")
    summary = run_environment({
        "analysis_type": "MODEL_QUALITY", "problem_type": "BinaryClassification",
        "dataset_source": str(VALIDATION_CSV), "output_path": str(out),
        "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
        "inference_attribute": "prediction", "probability_attribute": "probability",
        "ground_truth_attribute": "label", "publish_cloudwatch_metrics": "Disabled",
    }, message_file=out / "message")
    statistics = json.loads((out / "statistics.json").read_text())
    constraints = json.loads((out / "constraints.json").read_text())
    return summary, statistics, constraints, out


def _sig6(value: float) -> str:
    """A number as pandas displayed it (6 significant digits, no trailing zeros)."""
    return f"{value:.6g}"


def test_confusion_matrix_is_aws(baseline):
    _, statistics, _, _ = baseline
    shown = displayed_statistics(RUN_B)
    matrix = statistics["binary_classification_metrics"]["confusion_matrix"]
    assert {f"confusion_matrix.{a}.{p}": str(n) for a, row in matrix.items() for p, n in row.items()} == \
        {k: v for k, v in shown.items() if k.startswith("confusion_matrix.")}
    assert displayed_statistics(RUN_A)["confusion_matrix.1.0"] == str(matrix["1"]["0"])


def test_metric_values_are_aws_run_b(baseline):
    """Every scalar value of the latest real run (May 2021: AUC from probabilities, majority-class best constant
    classifier) as pandas showed it, and the same metric names in the same order."""
    _, statistics, _, _ = baseline
    metrics = statistics["binary_classification_metrics"]
    shown = displayed_statistics(RUN_B)
    values = {k.removesuffix(".value"): v for k, v in shown.items() if k.endswith(".value")}
    assert values, "no values parsed from the display"
    for name, text in values.items():
        assert _sig6(metrics[name]["value"]) == text, name
    shown_order = list(dict.fromkeys(k.split(".")[0] for k in shown))
    assert [k for k in metrics if k in shown_order] == shown_order
    assert set(shown_order) == set(metrics)  # truncated curve keys read as their prefix
    assert statistics["dataset"]["item_count"] == 201


def test_thresholds_are_aws_full_precision(baseline):
    """Suggested thresholds are the baseline's values; AWS's violation texts print them in full (run B)."""
    _, _, constraints, _ = baseline
    suggested = constraints["binary_classification_constraints"]
    shown = displayed_constraints(RUN_B)
    assert list(suggested) == list(shown)
    for name, (threshold, operator) in shown.items():
        assert suggested[name]["comparison_operator"] == operator
        assert _sig6(suggested[name]["threshold"]) == threshold
    for violation in execution_violations(RUN_B):
        name = next(n for n in suggested if mq.violation_metric_name(n) == violation["metric_name"])
        assert java_double(suggested[name]["threshold"]) == violation["threshold"], name


def test_curves_start_as_aws(baseline):
    """The displayed heads of run B's curves: ROC from (0,0) with TPR steps of 1/28, PR from recall 0 at
    precision 1."""
    _, statistics, _, _ = baseline
    metrics = statistics["binary_classification_metrics"]
    shown = displayed_statistics(RUN_B)
    roc = metrics["receiver_operating_characteristic_curve"]
    pr = metrics["precision_recall_curve"]
    heads = {
        "receiver_operating_characteristic_curve.false_p...": roc["false_positive_rates"],
        "receiver_operating_characteristic_curve.true_po...": roc["true_positive_rates"],
        "precision_recall_curve.precisions": pr["precisions"],
        "precision_recall_curve.recalls": pr["recalls"],
    }
    for key, values in heads.items():
        head = shown[key].strip("[.]").rstrip(", .").split(", ")
        assert [repr(v) for v in values[: len(head)]] == head, key


def test_standard_deviations_are_in_aws_range(baseline):
    """The std is random (80% samples, 5 times); AWS's two runs differ. Ours must be of the same size: within a
    factor of three of each run's, and 0 where AWS's is 0 (a metric that no sample can change)."""
    _, statistics, _, _ = baseline
    metrics = statistics["binary_classification_metrics"]
    for run in (RUN_A, RUN_B):
        for key, text in displayed_statistics(run).items():
            if not key.endswith(".standard_deviation"):
                continue
            name = key.removesuffix(".standard_deviation")
            if run == RUN_A and (name == "auc" or "best_constant" in name):
                continue  # run A's AUC and best-constant classifier were computed differently
            ours, theirs = metrics[name]["standard_deviation"], float(text)
            if theirs == 0:
                assert ours == 0, name
            else:
                assert theirs / 3 < ours < theirs * 3, (run, name, ours, theirs)


def test_baseline_job_message(baseline):
    summary, _, _, out = baseline
    assert (out / "message").read_text() == "Completed: Job completed successfully with no violations."
    assert sorted(p.name for p in out.iterdir()) == ["constraints.json", "message", "result.json", "statistics.json"]
    assert summary.item_count == 201 and summary.bad_records == {}
    assert json.loads((out / "result.json").read_text()) == {
        "version": 1, "analysis_type": "MODEL_QUALITY", "status": "Completed", "violations": 0,
        "violations_by_check": {}, "item_count": 201, "problem_type": "BinaryClassification",
        "bad_records": {}, "skipped_records": {}, "input_files": 1}


@pytest.mark.parametrize("run", [RUN_A, RUN_B])
def test_execution_metric_values_are_aws(run):
    """The execution's confusion counts (recovered from AWS's printed rates) give every violated metric's value
    to the last digit."""
    tp, fn, fp, tn = execution_counts(run)
    state = mqm.ModelQualityState(mqs.BINARY, positive_label="1")
    actual = np.repeat(["1", "1", "0", "0"], [tp, fn, fp, tn])
    predicted = np.repeat(["1", "0", "1", "0"], [tp, fn, fp, tn])
    state.update(actual, predicted)
    metrics = state.metrics()
    for violation in execution_violations(run):
        if violation["metric_name"] == "auc":
            continue  # needs the execution's scores, which were not printed
        name = next(n for n in metrics if mq.violation_metric_name(n) == violation["metric_name"])
        assert repr(metrics[name]) == violation["value"], name


def test_execution_violations_are_aws_run_b(baseline):
    """Run B's execution checked against our baseline constraints: the same 10 violations with AWS's exact
    texts, given AWS's values for what cannot be recomputed (AUC needs the scores, the std is random)."""
    _, _, constraints, _ = baseline
    tp, fn, fp, tn = execution_counts(RUN_B)
    state = mqm.ModelQualityState(mqs.BINARY, positive_label="1")
    state.update(np.repeat(["1", "1", "0", "0"], [tp, fn, fp, tn]), np.repeat(["1", "0", "1", "0"], [tp, fn, fp, tn]))
    statistics = state.to_document()
    metrics = statistics["binary_classification_metrics"]
    aws = {v["metric_name"]: v for v in execution_violations(RUN_B)}
    for name, entry in metrics.items():
        violation = aws.get(mq.violation_metric_name(name))
        if violation is not None:
            entry["standard_deviation"] = float(violation["std"])
            if name == "auc":
                entry["value"] = float(violation["value"])
    ours = mq.find_violations(statistics, constraints)
    assert sorted(ours, key=lambda v: v["metric_name"]) == sorted(
        ({"constraint_check_type": v["constraint_check_type"], "description": v["description"],
          "metric_name": v["metric_name"]} for v in aws.values()), key=lambda v: v["metric_name"])
    for violation in ours:
        assert VIOLATION_TEXT.match(violation["description"])

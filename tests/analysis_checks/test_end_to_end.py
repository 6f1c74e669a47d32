"""From the churn CSV through the analyzer's statistics to AWS's constraints, and a monitoring window shaped
like the real churn runs (spec §12.1) through the checks to the message and the metric lines."""

from __future__ import annotations

import json

from tests.analysis_checks.documents import ARTIFACTS, real_constraints, real_statistics
from watchkeeper.analysis.checks import drift_distances, find_violations
from watchkeeper.analysis.columns import read_csv
from watchkeeper.analysis.report import completion_message, metric_lines, violations_document
from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.analysis.suggest import suggest_constraints


def profile(data: bytes, *, header: bool, names=None) -> DatasetState:
    batch, _ = read_csv(data, header=header, names=names)
    state = DatasetState()
    state.update(batch.frame)
    return state


def test_baseline_of_the_churn_csv_suggests_aws_constraints_and_monitors_clean_against_aws_baseline():
    state = profile((ARTIFACTS / "training-dataset-with-header.csv").read_bytes(), header=True)
    ours = state.to_document()
    real = real_constraints()
    assert suggest_constraints(ours, real["monitoring_config"]) == real
    # AWS's baseline (statistics and constraints) against our statistics of the same data: nothing to report
    aws = real_statistics()
    assert find_violations(aws, ours, real, type_counts=state.type_counts()) == []
    assert set(drift_distances(aws, ours, real).values()) == {0.0}


def test_churn_like_window_reports_aws_texts():
    lines = (ARTIFACTS / "training-dataset-with-header.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:1913]]
    for row in rows:  # the model's score comes first, where the baseline had the 0/1 label
        row[0] = "0.83" if row[0] == "1" else "0.07"
    odd = list(rows[0])
    for name in ("State_AL", "State_HI"):
        odd[header.index(name)] = "0.3"
    window = "\n".join(",".join(row) for row in rows + [odd] * 7).encode()
    state = profile(window, header=False, names=header)
    current = state.to_document()
    baseline = real_statistics()
    constraints = real_constraints()
    constraints["features"] = constraints["features"][:33]  # AWS's log kept 33 features' statistics
    current["features"] = current["features"][:33]

    violations = find_violations(baseline, current, constraints, type_counts=state.type_counts())
    # Churn failed its type check, so it gets no drift verdict (docs/analysis-checks.md, "Drift for a
    # column whose type check failed"), as in AWS's intro-notebook runs.
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("Churn", "data_type_check"),
        ("State_AL", "data_type_check"),
        ("State_HI", "data_type_check"),
    ]
    assert violations[0]["description"] == (
        "Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
        "Observed: Only 0.0% of data is Integral."
    )
    assert violations[1]["description"].endswith("Observed: Only 99.6352266805628% of data is Integral.")
    assert (
        completion_message(violations)
        == "CompletedWithViolations: Job completed successfully with 3 violations."
    )
    assert violations_document(violations)["violations"] == violations

    # The metric still carries Churn's distance, above the threshold: measured, not a verdict.
    drift = drift_distances(baseline, current, constraints)
    metrics = [json.loads(x) for x in metric_lines(current, drift, endpoint="churn")]
    churn_drift = next(m for m in metrics if m["MetricName"] == "feature_baseline_drift_Churn")
    assert churn_drift["Value"] == drift["Churn"] > 0.1
    assert len([m for m in metrics if m["MetricName"].startswith("feature_baseline_drift_")]) == 33

"""A column that failed its data_type_check gets no baseline_drift_check (issue 10, part 7).

The rule and its evidence: docs/analysis-checks.md, "Drift for a column whose type check failed". In short:
AWS's intro-notebook runs reported 60 violations, exactly the 60 data-type failures of their traffic, and
none for the Churn column whose 0/1 label became a probability; Deequ itself ties no check to another.
"""

from __future__ import annotations

import numpy as np

from tests.analysis_checks.documents import (
    ARTIFACTS,
    constraint,
    constraints,
    feature_of,
    numeric_feature,
    real_constraints,
    real_statistics,
    sketch_of,
    statistics,
)
from tests.analysis_checks.test_end_to_end import profile
from watchkeeper.analysis import distance
from watchkeeper.analysis.checks import drift_distances, find_violations
from watchkeeper.analysis.types import TypeCounts

LABELS = [[0.0] * 80 + [1.0] * 20]  # an Integral 0/1 column: 80 zeros, 20 ones
SCORES = [np.linspace(0.05, 0.95, 100).round(4).tolist()]  # the same column as probabilities


def kinds(violations):
    return [(v["feature_name"], v["constraint_check_type"]) for v in violations]


def label_case(window_levels, **config):
    baseline = statistics(numeric_feature("label", LABELS))
    current = statistics(numeric_feature("label", window_levels))
    document = constraints(constraint("label", "Integral"), **config)
    return baseline, current, document


def test_integral_baseline_fractional_drifted_window_reports_the_type_only():
    baseline, current, document = label_case(SCORES)
    assert current["features"][0]["inferred_type"] == "Fractional"
    violations = find_violations(baseline, current, document)
    assert violations == [
        {
            "feature_name": "label",
            "constraint_check_type": "data_type_check",
            "description": "Data type match requirement is not met. Expected data type: Integral, "
            "Expected match: 100.0%. Observed: Only 0.0% of data is Integral.",
        }
    ]
    # The distribution has drifted far beyond the threshold; the metric still says so.
    assert drift_distances(baseline, current, document)["label"] > 0.5


def test_the_same_drift_with_whole_numbers_is_reported():
    baseline, current, document = label_case([[0.0] * 20 + [1.0] * 80])
    assert kinds(find_violations(baseline, current, document)) == [("label", "baseline_drift_check")]


def test_raw_type_counts_decide_the_type_failure_too():
    # Statistics alone would pass the type (every sketch item is whole); the raw text said "1.0".
    baseline, current, document = label_case([[0.0] * 20 + [1.0] * 80])
    counts = {"label": TypeCounts(integral=20, fractional=80)}
    assert kinds(find_violations(baseline, current, document, type_counts=counts)) == [
        ("label", "data_type_check")
    ]


def test_a_type_check_that_passes_under_a_lower_threshold_keeps_the_drift_verdict():
    baseline = statistics(numeric_feature("label", LABELS))
    current = statistics(numeric_feature("label", [[0.0] * 20 + [1.0] * 79 + [0.5]]))
    document = constraints(constraint("label", "Integral"))
    assert kinds(find_violations(baseline, current, document)) == [("label", "data_type_check")]
    document["features"][0]["monitoringConfigOverrides"] = {"datatype_check_threshold": 0.99}
    assert kinds(find_violations(baseline, current, document)) == [("label", "baseline_drift_check")]


def test_other_failed_checks_leave_the_drift_verdict_alone():
    baseline, current, document = label_case([[0.0] * 20 + [1.0] * 80])
    current["features"][0]["numerical_statistics"]["common"]["num_missing"] = 10
    assert kinds(find_violations(baseline, current, document)) == [
        ("label", "completeness_check"),
        ("label", "baseline_drift_check"),
    ]


def intro_notebook_window() -> tuple[bytes, list[str]]:
    """An hour of the intro notebook's traffic, in shape: 1,912 churn rows with the model's score in
    place of the label, and 7 copies of the header-like first line of `test-dataset-input-cols.csv`
    (whole numbers only in its six count columns, decimals such as 0.1 and 1.1 everywhere else)."""
    lines = (ARTIFACTS / "training-dataset-with-header.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:1913]]
    for row in rows:
        row[0] = "0.83" if row[0] == "1" else "0.07"
    counts = {"Account Length": "186", "Day Calls": "97", "Eve Calls": "118", "Night Calls": "85",
              "Intl Calls": "6", "CustServ Calls": "1"}  # fmt: skip
    odd = ["0.5"] + [counts.get(name, f"0.{i}") for i, name in enumerate(header[1:], start=1)]
    return "\n".join(",".join(row) for row in rows + [odd] * 7).encode(), header


def test_intro_notebook_window_reports_the_60_violations_aws_reported():
    lines = (ARTIFACTS / "training-dataset-with-header.csv").read_bytes()
    baseline = profile(lines, header=True).to_document()  # equals AWS's baseline (test_end_to_end)
    window, header = intro_notebook_window()
    state = profile(window, header=False, names=header)
    current = state.to_document()
    document = real_constraints()  # all 70 features, Robust, threshold 0.1

    violations = find_violations(baseline, current, document, type_counts=state.type_counts())
    assert len(violations) == 60  # AWS: "CompletedWithViolations: Job completed successfully with 60 violations."
    assert {v["constraint_check_type"] for v in violations} == {"data_type_check"}
    churn = next(v for v in violations if v["feature_name"] == "Churn")
    assert churn["description"].endswith("Observed: Only 0.0% of data is Integral.")  # AWS's row 6
    assert "Only 99.6352266805628% of data is Integral." in violations[-1]["description"]
    # Without the rule Churn's drift would be the 61st violation; no other feature drifts.
    drift = drift_distances(baseline, current, document)
    assert [name for name, value in drift.items() if value > 0.1] == ["Churn"]


def test_aws_rank_map_could_not_have_flagged_churn_either():
    """Why the recorded count does not settle the question on its own: Deequ 2.0.x's rank map (issue
    #392) keeps one weight per distinct item, so AWS's Churn baseline counts as n = 4 values and the
    Robust correction 1.8 * sqrt(1/4 + 1/m) >= 0.9 leaves at most 0.1, never above the threshold."""
    aws_churn = sketch_of(feature_of(real_statistics(), "Churn"))
    window = {"parameters": aws_churn["parameters"], "data": SCORES}
    linf, n, _ = distance.numerical_linf(aws_churn, window, collapse_repeated=True)
    assert n == 4.0 and linf > 0.1
    assert distance.numerical_distance(aws_churn, window, "Robust", collapse_repeated=True) == 0.0
    assert distance.numerical_distance(aws_churn, window, "Robust") > 0.5

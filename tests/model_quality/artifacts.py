"""The real AWS churn model-quality artifacts, kept in the repository (tests/fixtures/aws/)."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from functools import cache
from typing import Any

from tests.aws_fixtures import aws_fixture

ARTIFACTS = aws_fixture("churn-model-quality")

VALIDATION_CSV = ARTIFACTS / "validation_with_predictions.csv"
RUN_A, RUN_B = "run_2021_02_05", "run_2021_05"


@cache
def observed() -> dict[str, Any]:
    return json.loads((ARTIFACTS / "observed-notebook-outputs.json").read_text())


def displayed_statistics(run: str) -> dict[str, str]:
    """The pandas view of AWS's binary_classification_metrics: flattened key -> displayed text (values rounded
    to 6 significant digits, long keys cut with '...', curves cut)."""
    rows = {}
    for line in observed()[run]["baseline_statistics_display_rounded"].splitlines()[1:]:
        key, _, value = line.strip().partition(" ")
        rows[key] = value.strip()
    return rows


def displayed_constraints(run: str) -> dict[str, tuple[str, str]]:
    """metric -> (displayed threshold, comparison operator) from the pandas view of constraints.json."""
    rows = {}
    for line in observed()[run]["baseline_constraints_display_rounded"].splitlines()[1:]:
        name, threshold, operator = line.split()
        rows[name] = (threshold, operator)
    return rows


def execution_violations(run: str) -> list[dict[str, str]]:
    return observed()[run]["execution_violations"]


def execution_counts(run: str) -> tuple[int, int, int, int]:
    """(TP, FN, FP, TN) of an execution, recovered from AWS's full-precision violation values: TPR and FPR are
    exact fractions of the positive and negative counts, and the smallest multiples of their denominators that
    also give AWS's precision and accuracy are the execution's counts."""
    values = {v["metric_name"]: float(v["value"]) for v in execution_violations(run)}
    tpr = Fraction(values["truePositiveRate"]).limit_denominator(100_000)
    fpr = Fraction(values["falsePositiveRate"]).limit_denominator(100_000)
    for i in range(1, 200):
        for j in range(1, 200):
            positives, negatives = tpr.denominator * i, fpr.denominator * j
            tp, fp = tpr.numerator * i, fpr.numerator * j
            precision = tp / (tp + fp)
            accuracy = (tp + negatives - fp) / (positives + negatives)
            if precision == values["precision"] and accuracy == values["accuracy"]:
                return tp, positives - tp, fp, negatives - fp
    raise AssertionError(f"no confusion matrix reproduces {run}'s violation values")


VIOLATION_TEXT = re.compile(r"^Metric (\S+) with (\S+) \+/- (\S+) was (\S+) '(\S+)'$")

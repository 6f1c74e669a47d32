"""CloudWatch's evaluation of a metric alarm's range, pure: M out of N and TreatMissingData."""

from __future__ import annotations

from typing import Any

import pytest

from watchkeeper.metrics.alarm_rules import evaluate, evaluation_range


def config(treat: str = "missing", to_alarm: int = 2, periods: int = 3, op: str = "GreaterThanThreshold") -> Any:
    return {
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": to_alarm,
        "Threshold": 5.0,
        "ComparisonOperator": op,
        "TreatMissingData": treat,
    }


def values(*found: float | None) -> list[tuple[float, float | None]]:
    return [(600.0 - 60 * i, v) for i, v in enumerate(found)]


@pytest.mark.parametrize(
    ("treat", "found", "state"),
    [
        ("missing", (9, 9, 1), "ALARM"),  # 2 of 3 breach
        ("missing", (9, 1, 1), "OK"),
        ("missing", (None, None, None), "INSUFFICIENT_DATA"),
        ("ignore", (None, None, None), None),  # the state is kept
        ("missing", (9, None, None), "OK"),  # only present periods count
        ("breaching", (9, None, 1), "ALARM"),
        ("breaching", (None, None, None), "ALARM"),
        ("notBreaching", (9, None, None), "OK"),
        ("notBreaching", (None, None, None), "OK"),
    ],
)
def test_m_out_of_n_and_missing_data(treat: str, found: tuple[float | None, ...], state: str | None) -> None:
    assert evaluate(config(treat), values(*found), 700.0).state == state


def test_comparison_at_the_threshold_and_reason() -> None:
    at = values(5.0)
    assert evaluate(config(to_alarm=1, periods=1), at, 700.0).state == "OK"
    verdict = evaluate(config(to_alarm=1, periods=1, op="GreaterThanOrEqualToThreshold"), at, 700.0)
    assert verdict.state == "ALARM"
    assert verdict.reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [5.0 (01/01/70 00:10:00)]")
    assert verdict.data["recentDatapoints"] == [5.0] and verdict.data["threshold"] == 5.0
    assert evaluate(config(to_alarm=1, periods=1, op="LessThanThreshold"), values(4.0), 700.0).state == "ALARM"


def test_evaluation_range_ends_with_the_current_period() -> None:
    start, end, starts = evaluation_range(config(periods=3), 730.0)
    assert (start, end, starts) == (420.0, 780.0, [720.0, 660.0, 600.0, 540.0, 480.0, 420.0])


def test_missing_and_ignore_look_further_back() -> None:
    # A monitoring execution's point carries its window's start: a period or more before the present one.
    late = values(None, 9.0, None, None)
    assert evaluate(config("missing", 1, 1), late, 700.0).state == "ALARM"
    assert evaluate(config("ignore", 1, 1), values(None, 1.0, 9.0), 700.0).state == "OK"  # the latest counts
    assert evaluate(config("notBreaching", 1, 1), late, 700.0).state == "OK"  # only the latest period

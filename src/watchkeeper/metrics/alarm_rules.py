"""CloudWatch's rules for metric alarms, pure: what PutMetricAlarm accepts, and how an alarm's evaluation
range decides its state (Period, EvaluationPeriods, DatapointsToAlarm, ComparisonOperator, Threshold,
TreatMissingData)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import regex

from watchkeeper.metrics.aggregate import STATISTICS
from watchkeeper.metrics.datums import check_dimensions
from watchkeeper.metrics.errors import (
    CloudWatchError,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    invalid_value,
)

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
TREAT_MISSING = ("missing", "ignore", "breaching", "notBreaching")
MAX_EVALUATION_RANGE = 7 * 86400  # EvaluationPeriods * Period
LOOKBACK_PERIODS = 3  # periods before the EvaluationPeriods where missing/ignore alarms look for datapoints
_SNS_ARN = regex.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}")
ACTION_LISTS = ("AlarmActions", "OKActions", "InsufficientDataActions")
UNSUPPORTED = ("ExtendedStatistic", "Metrics", "ThresholdMetricId", "EvaluationCriteria", "EvaluationInterval")


class ResourceNotFound(CloudWatchError):
    code = "ResourceNotFound"
    shape = "ResourceNotFound"
    status = 404


def check_alarm(p: dict[str, Any]) -> dict[str, Any]:
    """The alarm's stored configuration from a validated PutMetricAlarm request, with defaults filled in."""
    for member in UNSUPPORTED:
        if member in p:
            raise InvalidParameterValue(
                f"{member} is not supported by Watchkeeper yet: alarms watch one metric with a Statistic."
            )
    for member in ("MetricName", "Namespace", "Statistic", "Period", "Threshold"):
        if member not in p:
            raise MissingParameter(f"The parameter {member} is required.")
    if p["Statistic"] not in STATISTICS:
        raise invalid_value(p["Statistic"], "Statistic")
    if p["ComparisonOperator"] not in COMPARISONS:
        raise invalid_value(
            p["ComparisonOperator"],
            "ComparisonOperator",
            "Anomaly detection bands are not supported by Watchkeeper yet.",
        )
    period, periods = p["Period"], p["EvaluationPeriods"]
    if period < 10 or (period not in (10, 30) and period % 60):
        raise invalid_value(period, "Period", "The period must be 10, 30 or a multiple of 60 seconds.")
    if periods < 1:
        raise invalid_value(periods, "EvaluationPeriods")
    if periods * period > MAX_EVALUATION_RANGE:
        raise InvalidParameterCombination(
            f"The evaluation range (EvaluationPeriods * Period) must not exceed {MAX_EVALUATION_RANGE} seconds."
        )
    to_alarm = p.get("DatapointsToAlarm", periods)
    if not 1 <= to_alarm <= periods:
        raise invalid_value(to_alarm, "DatapointsToAlarm", "It must be between 1 and EvaluationPeriods.")
    treat = p.get("TreatMissingData", "missing")
    if treat not in TREAT_MISSING:
        raise invalid_value(treat, "TreatMissingData", f"It must be one of {', '.join(TREAT_MISSING)}.")
    if not math.isfinite(p["Threshold"]):
        raise invalid_value(p["Threshold"], "Threshold")
    for name in ACTION_LISTS:
        for i, action in enumerate(p.get(name) or [], 1):
            if not _SNS_ARN.fullmatch(action):
                raise invalid_value(
                    action, f"{name}.member.{i}", "Watchkeeper runs SNS topic actions only (arn:aws:sns:...)."
                )
    check_dimensions(p.get("Dimensions"), "Dimensions")
    config = {k: v for k, v in p.items() if k not in ("AlarmName", "Tags", "EvaluateLowSampleCountPercentile")}
    config.update(DatapointsToAlarm=to_alarm, TreatMissingData=treat, ActionsEnabled=p.get("ActionsEnabled", True))
    return config


@dataclass(frozen=True)
class Verdict:
    state: str | None  # None: keep the current state (TreatMissingData=ignore with no data)
    reason: str
    data: dict[str, Any]


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%d/%m/%y %H:%M:%S")


def evaluate(config: dict[str, Any], values: Sequence[tuple[float, float | None]], now: float) -> Verdict:
    """The state of an alarm whose evaluation range holds `values` ((period start, value or None), newest
    first). With TreatMissingData `missing` or `ignore` the latest EvaluationPeriods present datapoints of the
    whole range count; with `breaching` or `notBreaching`, the latest EvaluationPeriods periods."""
    compare, words = COMPARISONS[config["ComparisonOperator"]]
    threshold, treat = config["Threshold"], config["TreatMissingData"]
    to_alarm, periods = config["DatapointsToAlarm"], config["EvaluationPeriods"]
    if treat in ("missing", "ignore"):
        # CloudWatch looks further back for datapoints: the latest EvaluationPeriods present ones of the range.
        present = [(t, v) for t, v in values if v is not None][:periods]
        missing = 0
    else:
        present = [(t, v) for t, v in values[:periods] if v is not None]
        missing = min(len(values), periods) - len(present)
    breaching = [(t, v) for t, v in present if compare(v, threshold)]
    count = len(breaching) + (missing if treat == "breaching" else 0)
    data = {
        "version": "1.0",
        "queryDate": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
        "statistic": config["Statistic"],
        "period": config["Period"],
        "recentDatapoints": [v for _, v in present],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": datetime.fromtimestamp(t, UTC).isoformat(), "value": v} for t, v in present
        ],
    }
    shown = ", ".join(f"{v} ({_stamp(t)})" for t, v in (breaching or present)[:5])
    if not present and treat in ("missing", "ignore"):
        if treat == "ignore":
            return Verdict(None, "", data)
        return Verdict(
            "INSUFFICIENT_DATA",
            f"Insufficient Data: {periods} datapoint{'s' if periods > 1 else ''} were unknown.",
            data,
        )
    if count >= to_alarm:
        return Verdict(
            "ALARM",
            f"Threshold Crossed: {count} out of the last {periods} datapoints [{shown}] "
            f"{'was' if count == 1 else 'were'} {words} the threshold ({threshold}) "
            f"(minimum {to_alarm} datapoint{'s' if to_alarm > 1 else ''} for OK -> ALARM transition).",
            data,
        )
    return Verdict(
        "OK",
        f"Threshold Crossed: {len(present) - len(breaching)} out of the last {periods} datapoints [{shown}] "
        f"{'was' if len(present) - len(breaching) == 1 else 'were'} not {words} the threshold ({threshold}) "
        f"(minimum {to_alarm} datapoint{'s' if to_alarm > 1 else ''} for ALARM -> OK transition).",
        data,
    )


def evaluation_range(config: dict[str, Any], now: float) -> tuple[float, float, list[float]]:
    """(start, end, period starts newest first) of the range an alarm evaluates at `now`: the period holding
    `now` (CloudWatch evaluates its latest, possibly partial, datapoint) and the EvaluationPeriods - 1 before,
    and `LOOKBACK_PERIODS` more, where `missing`/`ignore` alarms find late or sparse datapoints (a monitoring
    execution's metrics carry its window's start, an hour or more before they arrive)."""
    period = config["Period"]
    latest = math.floor(now / period) * period
    starts = [latest - i * period for i in range(config["EvaluationPeriods"] + LOOKBACK_PERIODS)]
    return starts[-1], latest + period, starts

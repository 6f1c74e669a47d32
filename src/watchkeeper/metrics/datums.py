"""PutMetricData's rules: a MetricDatum (already checked against botocore's model) becomes the points the
store keeps, or the error CloudWatch answers. Shared by the API and by the ingestion of executions' metric
lines, which skips the rules on the timestamp's age (a backfilled window is older than two weeks)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from watchkeeper.metrics.errors import InvalidParameterCombination, InvalidParameterValue, invalid_value

MAX_DATUMS = 1000  # MetricData entries per PutMetricData call (AWS's limit)
MAX_VALUES = 150  # Values (and Counts) per datum
PAST_LIMIT = 14 * 86400  # PutMetricData accepts points up to two weeks old ...
FUTURE_LIMIT = 2 * 3600  # ... and up to two hours ahead
# CloudWatch rejects values too small or too large to store (base 2: 2^-360 to 2^360). Its documentation prints
# the bound rounded, 2.348543e108, and Clarify publishes infinities as exactly that (spec §8): it is accepted.
SMALLEST, LARGEST = 2.0**-360, 2.348543e108


@dataclass(frozen=True)
class Point:
    """One stored point: a statistic set (a single value v is (1, v, v, v)) of one series."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]  # sorted by name
    timestamp: float
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    unit: str = "None"


def canonical_dimensions(dimensions: list[dict[str, str]] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d["Name"], d["Value"]) for d in dimensions or ()))


def dimensions_json(dimensions: tuple[tuple[str, str], ...]) -> str:
    return orjson.dumps([list(pair) for pair in dimensions]).decode()


def dimensions_list(stored: str) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in orjson.loads(stored)]


def _check_value(value: float, parameter: str) -> float:
    if not math.isfinite(value) or (value != 0 and not SMALLEST <= abs(value) <= LARGEST):
        raise invalid_value(value, parameter)
    return float(value)


def check_dimensions(dimensions: list[dict[str, str]] | None, parameter: str) -> tuple[tuple[str, str], ...]:
    canonical = canonical_dimensions(dimensions)
    names = [name for name, _ in canonical]
    for name in names:
        if names.count(name) > 1:
            raise InvalidParameterValue(
                f"The value {name} for parameter {parameter} is invalid: each dimension name may appear once."
            )
    return canonical


def points_of(
    namespace: str, datum: dict[str, Any], parameter: str, now: float, *, check_age: bool = True
) -> list[Point]:
    """The points of one MetricDatum (`parameter` names it in errors: `MetricData.member.1`)."""
    given = [key for key in ("Value", "StatisticValues", "Values") if key in datum]
    if len(given) > 1:
        raise InvalidParameterCombination(
            f"The parameters {parameter}.{given[0]} and {parameter}.{given[1]} are mutually exclusive and you "
            "have specified both."
        )
    if not given:
        raise InvalidParameterCombination(
            f"At least one of the parameters {parameter}.Value, {parameter}.StatisticValues or "
            f"{parameter}.Values must be specified."
        )
    if "Counts" in datum and "Values" not in datum:
        raise InvalidParameterCombination(f"The parameter {parameter}.Counts requires {parameter}.Values.")
    resolution = datum.get("StorageResolution")
    if resolution is not None and resolution not in (1, 60):
        raise invalid_value(resolution, f"{parameter}.StorageResolution", "It must be 1 or 60.")
    timestamp = float(datum.get("Timestamp", now))
    if check_age and timestamp > now + FUTURE_LIMIT:
        raise InvalidParameterValue(
            f"The parameter {parameter}.Timestamp must specify a time no more than two hours in the future."
        )
    if check_age and timestamp < now - PAST_LIMIT:
        raise InvalidParameterValue(
            f"The parameter {parameter}.Timestamp must specify a time within the past two weeks."
        )

    def point(count: float, total: float, low: float, high: float) -> Point:
        return Point(
            namespace,
            datum["MetricName"],
            check_dimensions(datum.get("Dimensions"), f"{parameter}.Dimensions"),
            timestamp,
            count,
            total,
            low,
            high,
            datum.get("Unit", "None"),
        )

    if "Value" in datum:
        value = _check_value(datum["Value"], f"{parameter}.Value")
        return [point(1.0, value, value, value)]
    if "StatisticValues" in datum:
        stats = {k: _check_value(v, f"{parameter}.StatisticValues.{k}") for k, v in datum["StatisticValues"].items()}
        if stats["SampleCount"] <= 0:
            raise invalid_value(
                stats["SampleCount"], f"{parameter}.StatisticValues.SampleCount", "It must be positive."
            )
        if stats["Minimum"] > stats["Maximum"]:
            raise InvalidParameterValue(
                f"The parameter {parameter}.StatisticValues.Minimum must not be greater than "
                f"{parameter}.StatisticValues.Maximum."
            )
        return [point(stats["SampleCount"], stats["Sum"], stats["Minimum"], stats["Maximum"])]
    values = [_check_value(v, f"{parameter}.Values") for v in datum["Values"]]
    counts = datum.get("Counts") or [1.0] * len(values)
    if len(values) > MAX_VALUES:
        raise invalid_value(len(values), f"{parameter}.Values", f"At most {MAX_VALUES} values per datum.")
    if len(counts) != len(values):
        raise InvalidParameterCombination(
            f"The parameters {parameter}.Values and {parameter}.Counts must be of the same size."
        )
    points = []
    for value, count in zip(values, counts, strict=True):
        count = _check_value(count, f"{parameter}.Counts")
        if count < 0:
            raise invalid_value(count, f"{parameter}.Counts", "Counts must not be negative.")
        if count > 0:
            points.append(point(count, value * count, value, value))
    return points


def put_points(params: dict[str, Any], now: float) -> list[Point]:
    """Every point of a PutMetricData request (MetricData and EntityMetricData), or the first error."""
    namespace = params["Namespace"]
    if namespace.startswith("AWS/"):
        raise invalid_value(namespace, "Namespace", "Namespaces starting with AWS/ are reserved for AWS.")
    datums = [(f"MetricData.member.{i}", d) for i, d in enumerate(params.get("MetricData") or [], start=1)]
    for e, entity in enumerate(params.get("EntityMetricData") or [], start=1):
        datums += [
            (f"EntityMetricData.member.{e}.MetricData.member.{i}", d)
            for i, d in enumerate(entity.get("MetricData") or [], start=1)
        ]
    if not datums:
        raise InvalidParameterCombination(
            "At least one of the parameters MetricData or EntityMetricData must be given."
        )
    if len(datums) > MAX_DATUMS:
        raise invalid_value(len(datums), "MetricData", f"At most {MAX_DATUMS} datums per call.")
    return [point for parameter, datum in datums for point in points_of(namespace, datum, parameter, now)]

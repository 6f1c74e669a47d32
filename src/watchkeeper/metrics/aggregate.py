"""Points into Period buckets, and CloudWatch's five statistics of a bucket. Pure.

A bucket starts at `start + k * period` (the query's StartTime, not the epoch) and holds the points whose
timestamps fall in [bucket start, bucket start + period)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


@dataclass
class Bucket:
    start: float
    unit: str
    sample_count: float
    sum: float
    minimum: float
    maximum: float

    def value(self, statistic: str) -> float:
        if statistic == "SampleCount":
            return self.sample_count
        if statistic == "Sum":
            return self.sum
        if statistic == "Minimum":
            return self.minimum
        if statistic == "Maximum":
            return self.maximum
        if statistic == "Average":
            return self.sum / self.sample_count
        raise ValueError(statistic)


def buckets(points: Iterable[Any], start: float, period: int, *, by_unit: bool) -> list[Bucket]:
    """Points (with timestamp, sample_count, sum, minimum, maximum, unit) summed into buckets, oldest first;
    `by_unit` keeps the points of each unit apart (GetMetricStatistics answers one datapoint per unit)."""
    found: dict[tuple[float, str], Bucket] = {}
    for p in points:
        begin = start + ((p.timestamp - start) // period) * period
        unit = p.unit if by_unit else ""
        bucket = found.get((begin, unit))
        if bucket is None:
            found[(begin, unit)] = Bucket(begin, unit, p.sample_count, p.sum, p.minimum, p.maximum)
        else:
            bucket.sample_count += p.sample_count
            bucket.sum += p.sum
            bucket.minimum = min(bucket.minimum, p.minimum)
            bucket.maximum = max(bucket.maximum, p.maximum)
    return [found[key] for key in sorted(found)]

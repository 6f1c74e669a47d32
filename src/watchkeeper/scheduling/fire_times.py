"""When a schedule fires (UTC, minute 0), and which window each execution analyses.

Fire hours: hourly → every hour; daily at H → H; every N hours from H → every hour h of the day with
h ≡ H (mod N) (so `cron(0 17/12 ? * * *)` fires at 05:00 and 17:00, as SageMaker documents); no
ScheduleConfig → daily at 00:00 UTC (our choice; AWS "picks a time"). See docs/scheduling.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from watchkeeper.scheduling.expressions import ScheduleSpec, parse_offset

HOUR = 3600
DAY = 86400


def fire_hours(spec: ScheduleSpec) -> tuple[int, ...]:
    if spec.kind == "hourly":
        return tuple(range(24))
    if spec.kind == "daily":
        return (spec.start_hour,)
    if spec.kind == "every":
        return tuple(h for h in range(24) if h % spec.every_hours == spec.start_hour % spec.every_hours)
    return ()


def next_fire_after(spec: ScheduleSpec, t: float) -> float | None:
    """The first fire time strictly after t (None for NOW, which fires once when it is activated)."""
    hours = fire_hours(spec)
    if not hours:
        return None
    hour_start = math.floor(t / HOUR) * HOUR + HOUR  # the next top of an hour after t
    for step in range(48):
        candidate = hour_start + step * HOUR
        if (int(candidate // HOUR) % 24) in hours:
            return float(candidate)
    raise AssertionError("a schedule fires at least once a day")


def latest_fire_at_or_before(spec: ScheduleSpec, t: float) -> float | None:
    hours = fire_hours(spec)
    if not hours:
        return None
    hour_start = math.floor(t / HOUR) * HOUR
    for step in range(48):
        candidate = hour_start - step * HOUR
        if (int(candidate // HOUR) % 24) in hours:
            return float(candidate)
    raise AssertionError("a schedule fires at least once a day")


def previous_fire_before(spec: ScheduleSpec, t: float) -> float:
    """The fire time before the one at t: the start of a cron schedule's natural window."""
    previous = latest_fire_at_or_before(spec, t - 1)
    return previous if previous is not None else t - HOUR


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def hours(self) -> list[float]:
        """Start of every hour folder the window touches (capture files are filed by the hour they were written)."""
        first = math.floor(self.start / HOUR) * HOUR
        last = math.ceil(self.end / HOUR) * HOUR
        return [float(h) for h in range(int(first), int(last), HOUR)] or [float(first)]


def analysis_window(
    spec: ScheduleSpec, scheduled_time: float, schedule_config: dict[str, Any] | None, source: dict[str, Any]
) -> Window:
    """The window an execution at `scheduled_time` analyses (spec §2.2; rules in docs/scheduling.md).

    1. `DataAnalysisStartTime`/`DataAnalysisEndTime` of the ScheduleConfig (NOW, or given with a cron);
    2. else the input's `StartTimeOffset`/`EndTimeOffset` (EndTimeOffset defaults to 0);
    3. else the previous period: [previous fire time, scheduled time) — the previous hour for hourly.
    """
    config = schedule_config or {}
    if config.get("DataAnalysisStartTime") and config.get("DataAnalysisEndTime"):
        return Window(
            scheduled_time + parse_offset(config["DataAnalysisStartTime"], "DataAnalysisStartTime"),
            scheduled_time + parse_offset(config["DataAnalysisEndTime"], "DataAnalysisEndTime"),
        )
    if source.get("StartTimeOffset"):
        end_offset = parse_offset(source["EndTimeOffset"], "EndTimeOffset") if source.get("EndTimeOffset") else 0
        return Window(
            scheduled_time + parse_offset(source["StartTimeOffset"], "StartTimeOffset"), scheduled_time + end_offset
        )
    return Window(previous_fire_before(spec, scheduled_time), scheduled_time)


def iso(epoch_seconds: float) -> str:
    """`2021-05-06T22:00:00Z`, the form the analyzer's Environment carries."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_path(epoch_seconds: float) -> str:
    """`yyyy/mm/dd/hh`, SageMaker's hour folder."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y/%m/%d/%H")

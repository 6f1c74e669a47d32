"""The capture window rule, once for every reader of captured and merged records (spec §2.2, §3.3).

A record is analysed when it is not shadow traffic and, with a window, its `eventMetadata.inferenceTime`
lies in [start, end). Shadow traffic (`eventMetadata.invocationSource = "ShadowExperiment"`, the records of
a shadow variant) is skipped as the container's preprocessor wrapper skips it, window or not. With a window, a
record whose inferenceTime is missing or not ISO-8601 is bad (counted by reason), the others outside
[start, end) are skipped (counted). Times are compared as instants, never as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

SHADOW_SOURCE = "ShadowExperiment"
NO_TIME = "record has no valid inferenceTime"
OUTSIDE = "outside the analysis window"
SHADOW = "shadow variant traffic"


def parse_time(value: str | datetime | None) -> datetime | None:
    """ISO-8601 (`2022-03-24T00:23:04Z`) to an aware UTC datetime."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = pl.Series([value]).str.to_datetime(strict=False, time_unit="us", time_zone="UTC").item()
    if parsed is None:
        raise ValueError(f"not an ISO-8601 time: {value!r}")
    return parsed


@dataclass
class WindowCounts:
    shadow: int = 0
    no_time: int = 0
    outside: int = 0


def window_mask(times: pl.Series, sources: pl.Series | None, start: datetime | None,
                end: datetime | None) -> tuple[pl.Series, WindowCounts]:
    """Which records to keep, given their inferenceTime texts and invocationSource values (None: no such
    field), and what was left out by reason. Shadow records are counted as shadow only."""
    counts = WindowCounts()
    keep = pl.repeat(True, len(times), eager=True)
    if sources is not None:
        shadow = (sources == SHADOW_SOURCE).fill_null(False)
        counts.shadow = int(shadow.sum())
        keep = ~shadow
    if start is None and end is None:
        return keep, counts
    parsed = times.str.to_datetime(strict=False, time_unit="us", time_zone="UTC")
    has_time = parsed.is_not_null()
    inside = has_time
    if start is not None:
        inside = inside & (parsed >= start)
    if end is not None:
        inside = inside & (parsed < end)
    inside = inside.fill_null(False)
    counts.no_time = int((keep & ~has_time).sum())
    counts.outside = int((keep & has_time & ~inside).sum())
    return keep & inside, counts


def metadata_field(frame: pl.DataFrame, name: str) -> pl.Series | None:
    """`eventMetadata.<name>` of an envelope frame, or its flat column `<name>` (None when the frame has no
    such field)."""
    if name in frame.columns:
        return frame.get_column(name)
    if "eventMetadata" not in frame.columns:
        return None
    dtype = frame.schema["eventMetadata"]
    if not isinstance(dtype, pl.Struct) or name not in {f.name for f in dtype.fields}:
        return None
    return frame.get_column("eventMetadata").struct.field(name)


def select_frame(frame: pl.DataFrame, start: datetime | None, end: datetime | None) -> tuple[pl.DataFrame,
                                                                                              WindowCounts]:
    """The records of an envelope frame (with `eventMetadata`) that the window rule keeps."""
    times = metadata_field(frame, "inferenceTime")
    if times is None:
        times = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    keep, counts = window_mask(times, metadata_field(frame, "invocationSource"), start, end)
    return frame.filter(keep), counts


def hour_overlaps(hour_start: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether the hour folder starting at `hour_start` can hold records of [start, end)."""
    if start is not None and hour_start + timedelta(hours=1) <= start:
        return False
    return end is None or hour_start < end

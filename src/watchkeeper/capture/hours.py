"""SageMaker's hour folders, `yyyy/mm/dd/hh` (UTC): one definition for the writers (capture files, ground
truth), the merge job's output, and the readers and schedulers that look for them (spec §3.2, §3.5)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import polars as pl

HOUR_FORMAT = "%Y/%m/%d/%H"
HOUR_SECONDS = 3600
# An hour folder inside a key or path: `.../2022/08/26/13/...`
_HOUR_IN_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")


def hour_path(at: float | datetime) -> str:
    """`yyyy/mm/dd/hh` of a time: epoch seconds or an aware datetime (naive means UTC)."""
    if not isinstance(at, datetime):
        at = datetime.fromtimestamp(int(at // 1), UTC)
    elif at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime(HOUR_FORMAT)


def hour_object_uri(prefix: str, epoch_seconds: float) -> str:
    """`<prefix>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid4>.jsonl` for an object created at `epoch_seconds`, as
    SageMaker names capture files."""
    total_ms = int(epoch_seconds * 1000)
    at = datetime.fromtimestamp(total_ms // 1000, UTC)
    return (f"{prefix.rstrip('/')}/{hour_path(at)}/"
            f"{at.minute:02d}-{at.second:02d}-{total_ms % 1000:03d}-{uuid.uuid4()}.jsonl")


def hour_path_expr(times: pl.Expr) -> pl.Expr:
    """The hour folder of ISO-8601 time texts (`2022-03-24T00:23:04Z` → `2022/03/24/00`), null if unparseable."""
    return times.str.to_datetime(strict=False, time_unit="us", time_zone="UTC").dt.strftime(HOUR_FORMAT)


def hour_in_path(path: str) -> datetime | None:
    """The start of the last `yyyy/mm/dd/hh` folder in a path or key (None when it has none)."""
    found = None
    for match in _HOUR_IN_PATH.finditer(path):
        try:
            found = datetime(*(int(part) for part in match.groups()), tzinfo=UTC)
        except ValueError:
            continue
    return found

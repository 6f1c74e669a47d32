"""SageMaker's subset of schedule expressions (spec §2.1) and ISO-8601 time offsets.

Accepted: `cron(0 * ? * * *)` hourly, `cron(0 H ? * * *)` daily at H, `cron(0 H/N ? * * *)` every N hours
from H, `NOW` (once), or no ScheduleConfig at all (daily). AWS documents nothing else; we reject the rest
synchronously with a message that lists the accepted forms (issue 2 chose this over AWS's asynchronous
`Failed` status, which users found unhelpful: sagemaker-python-sdk #2629).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from watchkeeper.errors import ValidationError

ACCEPTED_FORMS = (
    "'cron(0 * ? * * *)' (hourly), 'cron(0 H ? * * *)' (daily at hour H, 0-23), "
    "'cron(0 H/N ? * * *)' (every N hours from hour H, N 1-24), or 'NOW' (once, with "
    "DataAnalysisStartTime and DataAnalysisEndTime); omit ScheduleConfig for a daily schedule"
)

_CRON = re.compile(r"cron\(0 (?P<hours>\*|(?P<start>[01]?\d|2[0-3])(?:/(?P<every>[1-9]|1\d|2[0-4]))?) \? \* \* \*\)")
_DURATION = re.compile(
    r"(?P<sign>[-+]?)P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)

Kind = Literal["hourly", "daily", "every", "now"]


@dataclass(frozen=True)
class ScheduleSpec:
    kind: Kind
    start_hour: int = 0
    every_hours: int = 1

    @property
    def period_seconds(self) -> int | None:
        """Seconds between fire times; None for a one-off NOW schedule."""
        if self.kind == "now":
            return None
        if self.kind == "hourly":
            return 3600
        if self.kind == "daily":
            return 86400
        return self.every_hours * 3600


DAILY = ScheduleSpec(kind="daily", start_hour=0)


def parse_schedule_expression(expression: str | None) -> ScheduleSpec:
    if expression is None:
        return DAILY
    if expression == "NOW":
        return ScheduleSpec(kind="now")
    match = _CRON.fullmatch(expression)
    if match is None:
        raise ValidationError(f"Invalid ScheduleExpression '{expression}'. Supported expressions are {ACCEPTED_FORMS}.")
    if match["hours"] == "*":
        return ScheduleSpec(kind="hourly")
    start = int(match["start"])
    if match["every"] is None:
        return ScheduleSpec(kind="daily", start_hour=start)
    every = int(match["every"])
    if every == 1:
        return ScheduleSpec(kind="hourly")
    if every == 24:
        return ScheduleSpec(kind="daily", start_hour=start)
    return ScheduleSpec(kind="every", start_hour=start, every_hours=every)


def parse_offset(value: str, member: str) -> int:
    """An ISO-8601 duration such as `-PT1H`, `-P1D`, `-PT30M` → signed seconds."""
    match = _DURATION.fullmatch(value)
    parts = match and [match["days"], match["hours"], match["minutes"], match["seconds"]]
    if match is None or not parts or all(p is None for p in parts) or value.endswith("T"):
        raise ValidationError(
            f"Invalid {member} '{value}': expected an ISO-8601 duration such as '-PT1H', '-PT30M' or '-P1D'"
        )
    days, hours, minutes, seconds = (int(p or 0) for p in parts)
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return -total if match["sign"] == "-" else total

"""Fire times and windows of every accepted schedule form, against hand-written UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import (
    Window,
    analysis_window,
    fire_hours,
    latest_fire_at_or_before,
    next_fire_after,
)


def t(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("expression", "hours"),
    [
        ("cron(0 * ? * * *)", tuple(range(24))),
        ("cron(0 6 ? * * *)", (6,)),
        ("cron(0 0/6 ? * * *)", (0, 6, 12, 18)),
        ("cron(0 17/12 ? * * *)", (5, 17)),  # SageMaker's own example: 17:00 and 05:00
        ("cron(0 3/5 ? * * *)", (3, 8, 13, 18, 23)),
        ("cron(0 2/1 ? * * *)", tuple(range(24))),
        (None, (0,)),  # no ScheduleConfig: daily at midnight UTC
    ],
)
def test_fire_hours(expression: str | None, hours: tuple[int, ...]) -> None:
    assert fire_hours(parse_schedule_expression(expression)) == hours


def test_next_and_latest_fire_times() -> None:
    hourly = parse_schedule_expression("cron(0 * ? * * *)")
    assert next_fire_after(hourly, t("2026-03-01T10:31:07")) == t("2026-03-01T11:00:00")
    assert next_fire_after(hourly, t("2026-03-01T11:00:00")) == t("2026-03-01T12:00:00")  # strictly after
    assert latest_fire_at_or_before(hourly, t("2026-03-01T11:00:00")) == t("2026-03-01T11:00:00")
    daily = parse_schedule_expression("cron(0 6 ? * * *)")
    assert next_fire_after(daily, t("2026-12-31T07:00:00")) == t("2027-01-01T06:00:00")
    assert latest_fire_at_or_before(daily, t("2026-03-01T05:59:59")) == t("2026-02-28T06:00:00")
    twice = parse_schedule_expression("cron(0 17/12 ? * * *)")
    assert next_fire_after(twice, t("2026-03-01T06:00:00")) == t("2026-03-01T17:00:00")
    assert next_fire_after(twice, t("2026-03-01T18:00:00")) == t("2026-03-02T05:00:00")
    assert next_fire_after(parse_schedule_expression("NOW"), t("2026-03-01T06:00:00")) is None


def test_windows() -> None:
    hourly = parse_schedule_expression("cron(0 * ? * * *)")
    # The previous hour, as AWS's 23:00 execution analysed 22:00-23:00 (spec §2.2).
    assert analysis_window(hourly, t("2021-05-06T23:00:00"), None, {}) == Window(
        t("2021-05-06T22:00:00"), t("2021-05-06T23:00:00")
    )
    daily = parse_schedule_expression("cron(0 5 ? * * *)")
    assert analysis_window(daily, t("2020-02-20T05:00:00"), None, {}) == Window(
        t("2020-02-19T05:00:00"), t("2020-02-20T05:00:00")
    )
    uneven = parse_schedule_expression("cron(0 3/5 ? * * *)")  # 23:00 → 03:00 is a 4-hour period
    assert analysis_window(uneven, t("2026-03-02T03:00:00"), None, {}) == Window(
        t("2026-03-01T23:00:00"), t("2026-03-02T03:00:00")
    )
    # Offsets: the docs' example, -P8D / -P1D at 2020-01-09T13:00 → 2020-01-01T13:00 … 2020-01-08T13:00.
    offsets = {"StartTimeOffset": "-P8D", "EndTimeOffset": "-P1D"}
    assert analysis_window(hourly, t("2020-01-09T13:00:00"), None, offsets) == Window(
        t("2020-01-01T13:00:00"), t("2020-01-08T13:00:00")
    )
    assert analysis_window(hourly, t("2020-01-09T13:00:00"), None, {"StartTimeOffset": "-PT6H"}) == Window(
        t("2020-01-09T07:00:00"), t("2020-01-09T13:00:00")
    )
    now = parse_schedule_expression("NOW")
    config = {"ScheduleExpression": "NOW", "DataAnalysisStartTime": "-PT5H", "DataAnalysisEndTime": "-PT1H"}
    assert analysis_window(now, t("2026-03-01T10:30:00"), config, offsets) == Window(
        t("2026-03-01T05:30:00"), t("2026-03-01T09:30:00")
    )


def test_window_hour_folders() -> None:
    window = Window(t("2026-03-01T22:30:00"), t("2026-03-02T00:00:00"))
    assert window.hours == [t("2026-03-01T22:00:00"), t("2026-03-01T23:00:00")]

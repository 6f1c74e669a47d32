"""Model Monitor alerts' rules, apart from the store: which alerts a schedule has, which executions count, the
status from the latest ones, UpdateMonitoringAlert's checks and the notification's text (docs/alerts.md).

AWS (the Model Dashboard's "View and edit alerts"): after every monitoring execution the failures among the
latest `EvaluationPeriod` executions are counted; at least `DatapointsToAlert` of them → `InAlert`, else `OK`,
also while fewer than `EvaluationPeriod` executions exist yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from watchkeeper.errors import ValidationError

IN_ALERT, OK = "InAlert", "OK"
# An execution "fails" when it found violations, or could not check the model at all (Failed: nobody knows
# whether the model is fine, and the dashboard's own word is "execution failures"). Stopped executions were
# stopped by someone: they are no datapoint, neither failure nor success.
ALERTING = frozenset({"CompletedWithViolations", "Failed"})
DATAPOINTS = ("Completed", "CompletedWithViolations", "Failed")
# AWS does not publish the values of the alerts it creates; one of one is the strictest and the simplest.
DEFAULT_DATAPOINTS_TO_ALERT = 1
DEFAULT_EVALUATION_PERIOD = 1


def alert_names(monitoring_type: str | None) -> list[str]:
    """The alerts a schedule has: one, named after its monitoring type ("DataQualityAlert"). AWS creates a
    schedule's alerts itself and does not document their names; this name is Watchkeeper's."""
    return [f"{monitoring_type or 'DataQuality'}Alert"]


@dataclass(frozen=True)
class Verdict:
    status: str
    failures: int
    considered: int  # how many executions were counted (at most EvaluationPeriod)


def verdict(newest_first: Sequence[str], datapoints_to_alert: int, evaluation_period: int) -> Verdict:
    """The status from the final statuses of the schedule's latest executions (Stopped already left out)."""
    window = list(newest_first[:evaluation_period])
    failures = sum(status in ALERTING for status in window)
    return Verdict(IN_ALERT if failures >= datapoints_to_alert else OK, failures, len(window))


def check_update(datapoints_to_alert: int, evaluation_period: int) -> None:
    """UpdateMonitoringAlert's rule beyond the model's 1..100 ranges (api/validation.py checks those)."""
    if datapoints_to_alert > evaluation_period:
        raise ValidationError(
            f"DatapointsToAlert ({datapoints_to_alert}) must be less than or equal to "
            f"EvaluationPeriod ({evaluation_period})."
        )


def message(
    schedule_name: str,
    alert_name: str,
    old: str,
    new: str,
    seen: Verdict,
    datapoints_to_alert: int,
    latest: str | None,
    account: str,
    region: str,
    now: float,
) -> str:
    """Slack-compatible JSON, like an alarm's (metrics/alarms.py)."""
    when = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
    icon = ":rotating_light:" if new == IN_ALERT else ":white_check_mark:"
    text = (
        f"{icon} Monitoring alert *{alert_name}* of schedule *{schedule_name}* is now *{new}* (was {old}) at "
        f"{when} in {region}, account {account}\n"
        f"{seen.failures} of the latest {seen.considered} executions failed or found violations "
        f"(alert at {datapoints_to_alert})" + (f"; latest: {latest}" if latest else "")
    )
    return orjson.dumps({"text": text}).decode()


def parse_alert_topics(value: str, webhooks: dict[str, str]) -> tuple[str, ...]:
    """WATCHKEEPER_MONITORING_ALERT_TOPICS: comma-separated SNS topic ARNs, each with a webhook in
    WATCHKEEPER_ALARM_WEBHOOKS (ValueError otherwise, so a typo stops the server at start)."""
    topics = tuple(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    for topic in topics:
        parts = topic.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"]:
            raise ValueError(f"WATCHKEEPER_MONITORING_ALERT_TOPICS: {topic!r} is not an SNS topic ARN")
        if topic not in webhooks:
            raise ValueError(
                f"WATCHKEEPER_MONITORING_ALERT_TOPICS: {topic} has no webhook in WATCHKEEPER_ALARM_WEBHOOKS"
            )
    return topics


def topics_of(topics: Sequence[str], account: str, region: str) -> list[str]:
    """The topics an alert of (account, region) notifies: those the account owns in that region, as an SNS
    topic belongs to one account and region."""
    return [t for t in topics if t.split(":")[3:5] == [region, account]]

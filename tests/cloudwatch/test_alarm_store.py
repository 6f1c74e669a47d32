"""Alarms in process on both databases: a transition is recorded once (conditional on the version read), with
its history and one notification per configured topic; evaluation over the metrics store; delivery claims."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.metrics.alarm_worker import AlarmWorker
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import alarm_notifications, metric_alarms

NOW = 1_700_000_040.0
TOPIC = "arn:aws:sns:us-east-1:111111111111:ops"


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = dataclasses.replace(
        Settings(),
        data_dir=tmp_path / "data",
        database_url=url,
        alarm_webhooks=f"{TOPIC}=http://127.0.0.1:9/hook",  # nothing listens: delivery fails
        alarm_webhook_attempts=2,
        alarm_webhook_backoff_seconds=5,
    )
    built = Services.build(settings, FakeClock(NOW))
    yield built
    built.close()


def test_transition_once_evaluation_and_delivery(services: Services) -> None:
    ctx = RequestContext(f"{random.randrange(10**11, 10**12)}", "us-east-1")  # PostgreSQL is shared by tests
    alarms, clock = services.alarms, services.clock
    assert isinstance(clock, FakeClock)
    dims = [{"Name": "Endpoint", "Value": "e"}]
    alarms.put_metric_alarm(
        ctx,
        {
            "AlarmName": "a",
            "Namespace": "N",
            "MetricName": "m",
            "Dimensions": dims,
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 5.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": [TOPIC, "arn:aws:sns:us-east-1:111111111111:unconfigured"],
            "OKActions": [TOPIC],
        },
    )
    with services.db.read() as conn:
        stale = conn.execute(select(metric_alarms).where(metric_alarms.c.account == ctx.account)).one()
    services.metrics.put_metric_data(
        ctx, {"Namespace": "N", "MetricData": [{"MetricName": "m", "Dimensions": dims, "Timestamp": NOW, "Value": 9}]}
    )
    worker = AlarmWorker(alarms, services.metrics_store, services.notifier, 60)
    assert worker.evaluate_all() >= 1
    assert alarms.describe_alarms(ctx, {"AlarmNames": ["a"]})["MetricAlarms"][0]["StateValue"] == "ALARM"
    # A second evaluator that read the alarm before the change records nothing.
    with services.db.write() as conn:
        assert alarms.transition(conn, stale, "ALARM", "late", None) is False
    worker.evaluate_all()  # the state holds: no second StateUpdate (checked with the history below)
    with services.db.read() as conn:
        rows = conn.execute(select(alarm_notifications).where(alarm_notifications.c.account == ctx.account)).all()
    assert [(r.topic_arn, r.status) for r in rows] == [(TOPIC, "pending")]  # the unconfigured topic: none
    # Delivery fails (nothing listens), is retried after the backoff, then is a dead letter.
    services.notifier.deliver_due()
    with services.db.read() as conn:
        row = conn.execute(select(alarm_notifications).where(alarm_notifications.c.id == rows[0].id)).one()
    assert (row.status, row.attempts, row.next_attempt) == ("pending", 1, NOW + 5)
    services.notifier.deliver_due()  # not due yet
    clock.advance(5)
    services.notifier.deliver_due()
    with services.db.read() as conn:
        row = conn.execute(select(alarm_notifications).where(alarm_notifications.c.id == rows[0].id)).one()
    assert (row.status, row.attempts) == ("dead", 2) and row.last_error
    history = alarms.describe_alarm_history(ctx, {"AlarmName": "a"})["AlarmHistoryItems"]
    assert [h["HistoryItemType"] for h in history] == ["Action", "StateUpdate", "ConfigurationUpdate"]
    assert history[0]["HistorySummary"] == f"Failed to execute action {TOPIC} after 2 tries"
    # 30 days on, the history and the dead letter are purged; the alarm stays.
    clock.advance(30 * 86400 + 1)
    assert alarms.purge() >= 4
    assert alarms.describe_alarm_history(ctx, {"AlarmName": "a"})["AlarmHistoryItems"] == []
    assert alarms.describe_alarms(ctx, {"AlarmNames": ["a"]})["MetricAlarms"]


def test_an_alarms_notifications_go_out_in_order(services: Services) -> None:
    """A later transition of the same alarm and topic waits while an earlier one is pending or being sent (two
    replicas delivering at once must not send OK before ALARM); a dead earlier one holds nothing back."""
    account = f"{random.randrange(10**11, 10**12)}"
    with services.db.write() as conn:
        for text in ("ALARM", "OK"):
            conn.execute(alarm_notifications.insert().values(
                account=account, region="us-east-1", alarm_name="a", topic_arn=TOPIC, message=text,
                status="pending", attempts=0, next_attempt=NOW, created=NOW, source="alarm"))
        rows = conn.execute(select(alarm_notifications).where(alarm_notifications.c.account == account)
                            .order_by(alarm_notifications.c.id)).all()
    first, second = rows
    notifier = services.notifier
    assert notifier._claim(second) is False  # the ALARM message is still pending
    assert notifier._claim(first) is True  # ... now being sent by this worker
    assert notifier._claim(second) is False
    with services.db.read() as conn:
        sending = conn.execute(select(alarm_notifications).where(alarm_notifications.c.id == first.id)).one()
    notifier._record(sending, "HTTP 500")  # back to pending, after a backoff
    assert notifier._claim(second) is False
    with services.db.write() as conn:
        conn.execute(alarm_notifications.update().where(alarm_notifications.c.id == first.id).values(status="dead"))
    assert notifier._claim(second) is True

"""Model Monitor alerts in process on SQLite and PostgreSQL: each ending execution re-evaluates the schedule's
alert, a transition writes one history row and one notification per topic of the schedule's account, and
UpdateMonitoringAlert's rules. Expected statuses are worked out by hand from AWS's description (the Model
Dashboard's "View and edit alerts"), not by the code under test."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from tests.alerts.conftest import World
from tests.in_process import t
from watchkeeper.errors import ResourceNotFound, ValidationError
from watchkeeper.services.container import Services
from watchkeeper.store.tables import alarm_history, alarm_notifications, monitoring_executions

ALERT = "DataQualityAlert"
MESSAGES = {
    "V": ("Completed", "CompletedWithViolations: Job completed successfully with 2 violations.", None),
    "C": ("Completed", "Completed: Job completed successfully with no violations.", None),
    "F": ("Failed", None, "AlgorithmError: the analyzer exited with 1"),
    "S": ("Stopped", None, None),
}
FINAL = {"V": "CompletedWithViolations", "C": "Completed", "F": "Failed", "S": "Stopped"}


def end_execution(world: World, hour: int, outcome: str) -> Any:
    """Start the execution of 2026-03-01 `hour`:00 and end its job with `outcome` (V, C, F or S)."""
    s = world.services
    schedule = s.schedules.find_row(world.ctx, "churn")
    started = s.starter.start(schedule, t(f"2026-03-01T{hour:02d}:00:00"))
    assert started is not None and started.job_name
    job = s.processing_jobs.claim_named(world.ctx, started.job_name, "test-runner", 60)
    assert job is not None
    status, message, reason = MESSAGES[outcome]
    s.processing_jobs.finish(job.id, "test-runner", status, exit_message=message, failure_reason=reason)
    world.clock.advance(60)
    with s.db.read() as conn:
        row = conn.execute(
            select(monitoring_executions).where(monitoring_executions.c.id == started.execution_id)
        ).one()
    assert row.status == FINAL[outcome]
    return row


def alert(world: World) -> dict[str, Any]:
    (summary,) = world.services.monitoring_alerts.list_alerts(world.ctx, {"MonitoringScheduleName": "churn"})[
        "MonitoringAlertSummaries"
    ]
    return summary


def notifications(world: World) -> list[Any]:
    with world.services.db.read() as conn:
        return conn.execute(
            select(alarm_notifications)
            .where(alarm_notifications.c.alarm_name == f"churn/{ALERT}", alarm_notifications.c.region == "us-east-1")
            .where(alarm_notifications.c.account == world.ctx.account)
            .order_by(alarm_notifications.c.id)
        ).all()


def test_a_new_schedule_has_its_alert_ok(world: World) -> None:
    schedule = world.services.schedules.find_row(world.ctx, "churn")
    assert alert(world) == {
        "MonitoringAlertName": ALERT,
        "CreationTime": schedule.creation_time,
        "LastModifiedTime": schedule.creation_time,
        "AlertStatus": "OK",
        "DatapointsToAlert": 1,
        "EvaluationPeriod": 1,
        "Actions": {"ModelDashboardIndicator": {"Enabled": True}},
    }
    history = world.services.monitoring_alerts.list_history(world.ctx, {"MonitoringScheduleName": "churn"})
    assert history == {"MonitoringAlertHistory": []}


def test_m_of_n_executions_transitions_history_and_notifications(world: World) -> None:
    alerts = world.services.monitoring_alerts
    updated = alerts.update_alert(
        world.ctx,
        {
            "MonitoringScheduleName": "churn",
            "MonitoringAlertName": ALERT,
            "DatapointsToAlert": 2,
            "EvaluationPeriod": 3,
        },
    )
    assert updated == {
        "MonitoringScheduleArn": world.services.schedules.find_row(world.ctx, "churn").arn,
        "MonitoringAlertName": ALERT,
    }
    # 2 of the latest 3 (Stopped executions are no datapoint; Failed counts as a failure), by hand:
    outcomes = "VCVVCCFSV"
    expected = ["OK", "OK", "InAlert", "InAlert", "InAlert", "OK", "OK", "OK", "InAlert"]
    seen = []
    for hour, outcome in enumerate(outcomes):
        end_execution(world, hour, outcome)
        seen.append(alert(world)["AlertStatus"])
    assert seen == expected
    summary = alert(world)
    assert (summary["DatapointsToAlert"], summary["EvaluationPeriod"]) == (2, 3)

    history = alerts.list_history(world.ctx, {"MonitoringScheduleName": "churn", "SortOrder": "Ascending"})
    rows = history["MonitoringAlertHistory"]
    assert [(r["AlertStatus"], r["MonitoringAlertName"], r["MonitoringScheduleName"]) for r in rows] == [
        ("InAlert", ALERT, "churn"),
        ("OK", ALERT, "churn"),
        ("InAlert", ALERT, "churn"),
    ]
    # one notification per transition, to the topic of the schedule's account only, written by the delivery
    # loop's fan-out (once: a second round finds nothing left)
    assert notifications(world) == []
    assert alerts.fan_out() == 3 and alerts.fan_out() == 0
    sent = notifications(world)
    assert [(n.topic_arn, n.source, n.status) for n in sent] == [(world.topic, "alert", "pending")] * 3
    assert "*InAlert* (was OK)" in sent[0].message and "*OK* (was InAlert)" in sent[1].message
    with world.services.db.read() as conn:
        others = conn.execute(
            select(alarm_notifications)
            .where(alarm_notifications.c.topic_arn.like("%999999999999%"))
            .where(alarm_notifications.c.alarm_name == f"churn/{ALERT}")
            .where(alarm_notifications.c.account == world.ctx.account)
        ).all()
    assert others == []

    # Stricter criteria apply at once to the executions there: 2 failures of 3 < 3 → OK, one more transition.
    alerts.update_alert(
        world.ctx,
        {
            "MonitoringScheduleName": "churn",
            "MonitoringAlertName": ALERT,
            "DatapointsToAlert": 3,
            "EvaluationPeriod": 3,
        },
    )
    assert alert(world)["AlertStatus"] == "OK"
    world.services.notifier.deliver_due()  # the delivery round runs the fan-out first
    assert len(notifications(world)) == 4

    # Filters, sorting and pages.
    def listed(**p: Any) -> list[tuple[str, float]]:
        got = alerts.list_history(world.ctx, {"MonitoringScheduleName": "churn", **p})["MonitoringAlertHistory"]
        return [(r["AlertStatus"], r["CreationTime"]) for r in got]

    every = listed(SortOrder="Ascending")
    assert [s for s, _ in every] == ["InAlert", "OK", "InAlert", "OK"]
    assert [c for _, c in every] == sorted(c for _, c in every)
    assert listed() == every[::-1]  # default: CreationTime, Descending
    assert listed(StatusEquals="OK", SortOrder="Ascending") == [every[1], every[3]]
    assert listed(CreationTimeAfter=every[2][1], SortOrder="Ascending") == every[2:]  # "on or after"
    assert listed(CreationTimeBefore=every[1][1], SortOrder="Ascending") == every[:2]
    assert [s for s, _ in listed(SortBy="Status", SortOrder="Ascending")] == ["InAlert", "InAlert", "OK", "OK"]
    first = alerts.list_history(
        world.ctx, {"MonitoringScheduleName": "churn", "MaxResults": 3, "SortOrder": "Ascending"}
    )
    assert len(first["MonitoringAlertHistory"]) == 3 and first["NextToken"]
    rest = alerts.list_history(
        world.ctx,
        {"MonitoringScheduleName": "churn", "MaxResults": 3, "SortOrder": "Ascending", "NextToken": first["NextToken"]},
    )
    assert [(r["AlertStatus"], r["CreationTime"]) for r in rest["MonitoringAlertHistory"]] == every[3:]
    assert "NextToken" not in rest
    assert alerts.list_history(world.ctx, {"MonitoringAlertName": ALERT})["MonitoringAlertHistory"]

    # Delivery: nothing listens on the webhook, so two tries and a dead letter each, one transition after the other
    # (a later one waits while an earlier one is pending); no alarm history for them.
    world.services.notifier.deliver_due()
    assert [n.status for n in notifications(world)] == ["pending"] * 4
    assert [n.attempts for n in notifications(world)] == [1, 0, 0, 0]
    for _ in range(8):
        world.clock.advance(5)
        world.services.notifier.deliver_due()
    assert {n.status for n in notifications(world)} == {"dead"}
    with world.services.db.read() as conn:
        assert conn.execute(select(alarm_history).where(alarm_history.c.account == world.ctx.account)).all() == []


def test_update_rules(world: World) -> None:
    alerts = world.services.monitoring_alerts
    base = {"MonitoringScheduleName": "churn", "MonitoringAlertName": ALERT}
    with pytest.raises(ValidationError, match=r"DatapointsToAlert \(4\) must be less than or equal to"):
        alerts.update_alert(world.ctx, {**base, "DatapointsToAlert": 4, "EvaluationPeriod": 3})
    with pytest.raises(ResourceNotFound, match="drift"):
        alerts.update_alert(
            world.ctx, {**base, "MonitoringAlertName": "drift", "DatapointsToAlert": 1, "EvaluationPeriod": 1}
        )
    with pytest.raises(ResourceNotFound, match="missing"):
        alerts.update_alert(
            world.ctx, {**base, "MonitoringScheduleName": "missing", "DatapointsToAlert": 1, "EvaluationPeriod": 1}
        )
    with pytest.raises(ResourceNotFound):
        alerts.list_alerts(world.ctx, {"MonitoringScheduleName": "missing"})
    with pytest.raises(ResourceNotFound):
        alerts.list_history(world.ctx, {"MonitoringScheduleName": "missing"})
    with pytest.raises(ResourceNotFound):
        alerts.list_history(world.ctx, {"MonitoringScheduleName": "churn", "MonitoringAlertName": "drift"})
    assert alert(world)["DatapointsToAlert"] == 1  # nothing was written by the refused calls
    # Case-insensitive schedule names, as every SageMaker lookup here.
    alerts.update_alert(
        world.ctx, {**base, "MonitoringScheduleName": "CHURN", "DatapointsToAlert": 1, "EvaluationPeriod": 5}
    )
    changed = alert(world)
    assert changed["EvaluationPeriod"] == 5 and changed["LastModifiedTime"] >= changed["CreationTime"]


def test_a_recreated_schedule_starts_fresh_and_history_stays(world: World) -> None:
    end_execution(world, 1, "V")
    assert alert(world)["AlertStatus"] == "InAlert"
    s = world.services
    s.schedules.delete(world.ctx, "churn")
    world.clock.advance(60)
    from tests.api.conftest import hourly_config

    s.schedules.create(world.ctx, "churn", hourly_config(), [])
    assert alert(world)["AlertStatus"] == "OK"
    assert (
        s.monitoring_alerts.list_history(world.ctx, {"MonitoringScheduleName": "churn"})["MonitoringAlertHistory"] == []
    )
    kept = s.monitoring_alerts.list_history(world.ctx, {"MonitoringAlertName": ALERT})["MonitoringAlertHistory"]
    assert [h["AlertStatus"] for h in kept] == ["InAlert"]


def test_a_fault_in_evaluation_never_stops_the_execution(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> bool:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(world.services.monitoring_alerts, "_evaluate", broken)
    end_execution(world, 1, "V")  # still CompletedWithViolations (asserted inside)
    monkeypatch.undo()
    assert alert(world)["AlertStatus"] == "OK"  # the evaluation was lost, and only it
    end_execution(world, 2, "V")
    assert alert(world)["AlertStatus"] == "InAlert"


def test_a_process_without_topics_loses_no_notification(world: World, tmp_path: Any) -> None:
    """`watchkeeper run` (no webhook settings) ends the execution; the server's delivery loop notifies."""
    bare = Services.build(
        dataclasses.replace(world.services.settings, alarm_webhooks="", monitoring_alert_topics=""), world.clock
    )
    try:
        end_execution(World(bare, world.clock, world.ctx, world.topic), 1, "V")
        assert alert(world)["AlertStatus"] == "InAlert"
        assert notifications(world) == []
        world.services.notifier.deliver_due()  # the server's delivery round
        assert [(n.topic_arn, n.status) for n in notifications(world)] == [(world.topic, "pending")]
    finally:
        bare.close()


def test_two_processes_count_each_other_and_notify_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes on one store end an execution each at the same time: the second to evaluate waits for the
    first's lock and counts its execution (2 of 2 → InAlert); their delivery rounds notify the transition once."""
    other = Services.build(world.services.settings, world.clock)
    try:
        world.services.monitoring_alerts.update_alert(
            world.ctx,
            {"MonitoringScheduleName": "churn", "MonitoringAlertName": ALERT, "DatapointsToAlert": 2,
             "EvaluationPeriod": 2},
        )
        slow = world.services.monitoring_alerts
        evaluate = slow._evaluate

        def held(*args: Any) -> bool:
            changed = evaluate(*args)  # saw its own execution only: 1 of 2, still OK
            time.sleep(1.0)  # its transaction stays open, the alert row locked: the other evaluation must wait
            return changed

        monkeypatch.setattr(slow, "_evaluate", held)
        first = threading.Thread(target=end_execution, args=(world, 1, "V"))
        first.start()
        time.sleep(0.3)
        end_execution(World(other, world.clock, world.ctx, world.topic), 2, "V")
        first.join()
        assert alert(world)["AlertStatus"] == "InAlert"
        history = slow.list_history(world.ctx, {"MonitoringScheduleName": "churn"})["MonitoringAlertHistory"]
        assert [h["AlertStatus"] for h in history] == ["InAlert"]
        handled = [0, 0]

        def fan(i: int, service: Services) -> None:
            handled[i] = service.monitoring_alerts.fan_out()

        threads = [threading.Thread(target=fan, args=(i, s)) for i, s in enumerate((world.services, other))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(handled) == [0, 1]
        assert [n.topic_arn for n in notifications(world)] == [world.topic]
    finally:
        other.close()

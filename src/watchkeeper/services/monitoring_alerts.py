"""Model Monitor alerts: ListMonitoringAlerts, ListMonitoringAlertHistory, UpdateMonitoringAlert, and the
evaluation told by the plan runner when an execution ends (services/plans.py `on_execution_end`).

Rules live in services/monitoring_alert_rules.py. A schedule's alerts exist from its creation (as AWS creates
them); a row is written the first time one is evaluated or updated, and until then ListMonitoringAlerts shows
the defaults. A transition (InAlert ↔ OK) writes its history row, with the notification's text, in the
transaction that ends the execution, so it exists exactly when the transition does; the alert row is locked
first (FOR UPDATE on PostgreSQL, the write lock on SQLite), so two executions ending at once in two processes
count each other. The server's delivery loop turns each transition into one notification per configured topic
(`fan_out`), delivered by the alarms' webhook queue (metrics/notify.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.errors import ResourceNotFound
from watchkeeper.services.context import RequestContext
from watchkeeper.services.listing import Page, decode_token, encode_token, paginate
from watchkeeper.services.lookup import find_named
from watchkeeper.services.monitoring_alert_rules import (
    DATAPOINTS,
    DEFAULT_DATAPOINTS_TO_ALERT,
    DEFAULT_EVALUATION_PERIOD,
    OK,
    alert_names,
    check_update,
    message,
    topics_of,
    verdict,
)
from watchkeeper.store import Database
from watchkeeper.store.tables import (
    alarm_notifications,
    monitoring_alert_history,
    monitoring_alerts,
    monitoring_executions,
    monitoring_schedules,
)

log = logging.getLogger(__name__)

PAGE = 100  # the documented default MaxResults of both lists


def _summary(row: Row[Any]) -> dict[str, Any]:
    return {
        "MonitoringAlertName": row.name,
        "CreationTime": row.creation_time,
        "LastModifiedTime": row.last_modified_time,
        "AlertStatus": row.status,
        "DatapointsToAlert": row.datapoints_to_alert,
        "EvaluationPeriod": row.evaluation_period,
        "Actions": {"ModelDashboardIndicator": {"Enabled": bool(row.dashboard_indicator)}},
    }


class MonitoringAlertService:
    def __init__(self, db: Database, clock: Clock, topics: Sequence[str] = ()) -> None:
        self.db = db
        self.clock = clock
        self.topics = tuple(topics)  # WATCHKEEPER_MONITORING_ALERT_TOPICS, each with a webhook

    # --- the API ---------------------------------------------------------------------------------------

    def list_alerts(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as conn:
            schedule = self._schedule(conn, ctx, p["MonitoringScheduleName"])
            stored = {row.name: row for row in conn.execute(self._alerts_of(schedule))}
        summaries = []
        for name in alert_names(schedule.monitoring_type):
            row = stored.get(name)
            summaries.append(_summary(row) if row is not None else self._default(schedule, name))
        limit = p.get("MaxResults") or PAGE
        offset = decode_token(p.get("NextToken"))
        more = offset + limit < len(summaries)
        page = Page(summaries[offset : offset + limit], encode_token(offset + limit) if more else None)
        return page.result("MonitoringAlertSummaries", list(page.rows))

    def list_history(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        h = monitoring_alert_history.c
        conditions = [h.account == ctx.account, h.region == ctx.region]
        with self.db.read() as conn:
            if p.get("MonitoringScheduleName"):
                schedule = self._schedule(conn, ctx, p["MonitoringScheduleName"])
                conditions += [h.schedule_key == schedule.name_key, h.schedule_created == schedule.creation_time]
                if p.get("MonitoringAlertName") and p["MonitoringAlertName"] not in alert_names(
                    schedule.monitoring_type
                ):
                    raise self._no_alert(p["MonitoringAlertName"], schedule.name)
            if p.get("MonitoringAlertName"):
                conditions.append(h.alert_name == p["MonitoringAlertName"])
            if p.get("StatusEquals"):
                conditions.append(h.status == p["StatusEquals"])
            # "alerts created on or after / on or before the specified time" (the API reference): inclusive.
            if p.get("CreationTimeAfter") is not None:
                conditions.append(h.creation_time >= p["CreationTimeAfter"])
            if p.get("CreationTimeBefore") is not None:
                conditions.append(h.creation_time <= p["CreationTimeBefore"])
            page = paginate(
                conn,
                select(monitoring_alert_history).where(*conditions),
                p,
                {"CreationTime": h.creation_time, "Status": h.status},
                h.id,
                default_max=PAGE,
            )
        items = [
            {
                "MonitoringScheduleName": r.schedule_name,
                "MonitoringAlertName": r.alert_name,
                "CreationTime": r.creation_time,
                "AlertStatus": r.status,
            }
            for r in page.rows
        ]
        return page.result("MonitoringAlertHistory", items)

    def update_alert(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = p["MonitoringAlertName"]
        with self.db.write() as conn:
            schedule = self._schedule(conn, ctx, p["MonitoringScheduleName"])
            if name not in alert_names(schedule.monitoring_type):
                raise self._no_alert(name, p["MonitoringScheduleName"])
            check_update(p["DatapointsToAlert"], p["EvaluationPeriod"])
            row = self._locked(conn, schedule, name)
            now = millis(self.clock.now())
            conn.execute(
                update(monitoring_alerts)
                .where(monitoring_alerts.c.id == row.id)
                .values(
                    datapoints_to_alert=p["DatapointsToAlert"],
                    evaluation_period=p["EvaluationPeriod"],
                    last_modified_time=now,
                    version=row.version + 1,
                )
            )
            # The new criteria apply to the executions already there at once, as they would at the next one.
            self._evaluate(conn, schedule, self._locked(conn, schedule, name), None)
        return {"MonitoringScheduleArn": schedule.arn, "MonitoringAlertName": name}

    # --- the plan runner's hook ------------------------------------------------------------------------

    def execution_ended(self, conn: Connection, execution_id: int, status: str) -> None:
        """Evaluate the schedule's alerts in the transaction that ends the execution. A fault loses only the
        evaluation (its savepoint is rolled back), never the execution's end; the next execution re-evaluates."""
        try:
            with conn.begin_nested():
                execution = conn.execute(
                    select(monitoring_executions).where(monitoring_executions.c.id == execution_id)
                ).first()
                if execution is None:
                    return
                ctx = RequestContext(execution.account, execution.region)
                schedule = find_named(conn, monitoring_schedules, ctx, execution.schedule_name)
                if schedule is None or schedule.creation_time > execution.creation_time:
                    return  # the schedule is gone (or is another one under the same name)
                for name in alert_names(schedule.monitoring_type):
                    self._evaluate(conn, schedule, self._locked(conn, schedule, name), execution_id)
        except Exception:
            log.exception("monitoring alerts: evaluation after execution %s (%s) failed", execution_id, status)

    # --- notifications: run by the delivery loop of the server (metrics/notify.py) -----------------------

    def fan_out(self, limit: int = 100) -> int:
        """Write one notification per configured topic for each transition not notified yet; returns how
        many transitions were handled. Done where the webhooks are configured (the server), not where the
        execution ended (it may be `watchkeeper run`); a conditional update settles replicas, so each
        transition is notified once, and a transition written while no server ran is notified at its start."""
        h = monitoring_alert_history.c
        with self.db.read() as conn:
            waiting = conn.execute(select(h.id).where(h.notified == 0).order_by(h.id).limit(limit)).scalars().all()
        if not waiting:
            return 0
        done = 0
        with self.db.write() as conn:
            for row in conn.execute(select(monitoring_alert_history).where(h.id.in_(waiting)).order_by(h.id)):
                if not conn.execute(
                    update(monitoring_alert_history).where(h.id == row.id, h.notified == 0).values(notified=1)
                ).rowcount:
                    continue  # another replica took it
                done += 1
                for topic in topics_of(self.topics, row.account, row.region):
                    conn.execute(
                        insert(alarm_notifications).values(
                            account=row.account,
                            region=row.region,
                            alarm_name=f"{row.schedule_name}/{row.alert_name}",
                            topic_arn=topic,
                            message=row.message,
                            status="pending",
                            attempts=0,
                            next_attempt=row.creation_time,
                            created=row.creation_time,
                            source="alert",
                        )
                    )
        return done

    # --- inside -----------------------------------------------------------------------------------------

    def _evaluate(self, conn: Connection, schedule: Row[Any], row: Row[Any], execution_id: int | None) -> bool:
        """Set the alert's status from the schedule's latest executions; True if it changed."""
        e = monitoring_executions.c
        latest = conn.execute(
            select(e.status, e.scheduled_time)
            .where(
                e.account == schedule.account,
                e.region == schedule.region,
                e.schedule_key == schedule.name_key,
                e.creation_time >= schedule.creation_time,
                e.status.in_(DATAPOINTS),
            )
            .order_by(e.scheduled_time.desc(), e.id.desc())
            .limit(row.evaluation_period)
        ).all()
        seen = verdict([r.status for r in latest], row.datapoints_to_alert, row.evaluation_period)
        if seen.status == row.status:
            return False
        now = millis(self.clock.now())
        done = conn.execute(
            update(monitoring_alerts)
            .where(monitoring_alerts.c.id == row.id, monitoring_alerts.c.version == row.version)
            .values(status=seen.status, last_modified_time=now, version=row.version + 1)
        ).rowcount
        if not done:
            return False  # changed under us: whoever changed it evaluated with what it saw
        newest = f"{latest[0].status} (scheduled {_iso(latest[0].scheduled_time)})" if latest else None
        text = message(
            schedule.name, row.name, row.status, seen.status, seen, row.datapoints_to_alert, newest,
            schedule.account, schedule.region, now,
        )
        conn.execute(
            insert(monitoring_alert_history).values(
                account=schedule.account,
                region=schedule.region,
                schedule_name=schedule.name,
                schedule_key=schedule.name_key,
                schedule_created=schedule.creation_time,
                alert_name=row.name,
                creation_time=now,
                status=seen.status,
                execution_id=execution_id,
                message=text,
                notified=0,
            )
        )
        log.info(
            "monitoring alert %s of schedule %s: %s → %s (%d of the latest %d executions failed)",
            row.name, schedule.name, row.status, seen.status, seen.failures, seen.considered,
        )
        return True

    def _locked(self, conn: Connection, schedule: Row[Any], name: str) -> Row[Any]:
        """The alert's row, written with the defaults if it is not yet, and locked for this transaction."""
        query = self._alerts_of(schedule).where(monitoring_alerts.c.name == name).with_for_update()
        row = conn.execute(query).first()
        if row is not None:
            return row
        default = self._default(schedule, name)
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(monitoring_alerts).values(
                        account=schedule.account,
                        region=schedule.region,
                        schedule_key=schedule.name_key,
                        schedule_created=schedule.creation_time,
                        name=name,
                        creation_time=default["CreationTime"],
                        last_modified_time=default["LastModifiedTime"],
                        status=OK,
                        datapoints_to_alert=DEFAULT_DATAPOINTS_TO_ALERT,
                        evaluation_period=DEFAULT_EVALUATION_PERIOD,
                        dashboard_indicator=1,
                        version=0,
                    )
                )
        except IntegrityError:
            pass  # another process wrote it first: lock theirs
        return conn.execute(query).one()

    @staticmethod
    def _alerts_of(schedule: Row[Any]) -> Any:
        a = monitoring_alerts.c
        return select(monitoring_alerts).where(
            a.account == schedule.account,
            a.region == schedule.region,
            a.schedule_key == schedule.name_key,
            a.schedule_created == schedule.creation_time,
        )

    @staticmethod
    def _default(schedule: Row[Any], name: str) -> dict[str, Any]:
        """An alert not written yet: created with its schedule, OK, one of one."""
        return {
            "MonitoringAlertName": name,
            "CreationTime": schedule.creation_time,
            "LastModifiedTime": schedule.creation_time,
            "AlertStatus": OK,
            "DatapointsToAlert": DEFAULT_DATAPOINTS_TO_ALERT,
            "EvaluationPeriod": DEFAULT_EVALUATION_PERIOD,
            "Actions": {"ModelDashboardIndicator": {"Enabled": True}},
        }

    @staticmethod
    def _schedule(conn: Connection, ctx: RequestContext, name: str) -> Row[Any]:
        row = find_named(conn, monitoring_schedules, ctx, name)
        if row is None:
            raise ResourceNotFound(f"Monitoring schedule {name} does not exist")
        return row

    @staticmethod
    def _no_alert(name: str, schedule: str) -> ResourceNotFound:
        return ResourceNotFound(f"Monitoring alert {name} does not exist for monitoring schedule {schedule}")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

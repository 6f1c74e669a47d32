"""Monitoring schedules: create, describe, update, delete, start, stop, list; Pending → Scheduled."""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.config import Settings
from watchkeeper.errors import ResourceInUse, ResourceLimitExceeded, ResourceNotFound
from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import next_fire_after
from watchkeeper.services.context import RequestContext
from watchkeeper.services.echo import echo_job_definition
from watchkeeper.services.executions import summary_of
from watchkeeper.services.job_definitions import JobDefinitionService
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.schedule_rules import check_max_runtime, check_offsets, resolve_config
from watchkeeper.services.tags import TagService
from watchkeeper.store import Database
from watchkeeper.store.tables import monitoring_executions, monitoring_schedules

log = logging.getLogger(__name__)

PENDING, SCHEDULED, STOPPED, FAILED = "Pending", "Scheduled", "Stopped", "Failed"
# DescribeMonitoringSchedule's FailureReason holds at most 1024 characters (botocore's model).
MAX_FAILURE_REASON = 1024
# Schedules activated per statement: well under SQLite's bound on a statement's variables.
ACTIVATION_CHUNK = 500

# Built once: Describe is the hottest call, and building a statement costs more than running it.
_FIND_SCHEDULE = select(monitoring_schedules).where(
    monitoring_schedules.c.account == bindparam("account"),
    monitoring_schedules.c.region == bindparam("region"),
    monitoring_schedules.c.name_key == bindparam("name_key"),
)
_LAST_EXECUTION = (
    select(monitoring_executions)
    .where(
        monitoring_executions.c.account == bindparam("account"),
        monitoring_executions.c.region == bindparam("region"),
        monitoring_executions.c.schedule_key == bindparam("name_key"),
        monitoring_executions.c.creation_time >= bindparam("since"),
    )
    .order_by(monitoring_executions.c.scheduled_time.desc(), monitoring_executions.c.id.desc())
    .limit(1)
)


class ScheduleService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        job_definitions: JobDefinitionService,
        tags: TagService,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.job_definitions = job_definitions
        self.tags = tags

    # --- rules shared by create and update -------------------------------------------------------

    def _resolve(self, conn: Connection, ctx: RequestContext, config: dict[str, Any]) -> dict[str, Any]:
        """Check the config and return the derived columns: type, endpoint, definition name."""
        resolved = resolve_config(config, conn, ctx)
        if resolved.inline is not None:
            monitoring_input = resolved.inline["MonitoringInputs"][0]
            check_offsets(monitoring_input)
            check_max_runtime(resolved.kind, resolved.spec, resolved.inline.get("StoppingCondition"))
            endpoint = (monitoring_input.get("EndpointInput") or {}).get("EndpointName")
        else:
            assert resolved.definition_name is not None
            definition = self.job_definitions.find(conn, ctx, resolved.kind, resolved.definition_name)
            body = orjson.loads(definition.body)
            check_max_runtime(resolved.kind, resolved.spec, body.get("StoppingCondition"))
            endpoint = definition.endpoint_name
        return {
            "monitoring_type": resolved.kind.name,
            "endpoint_name": endpoint,
            "job_definition_name": resolved.definition_name,
        }

    def _find(self, conn: Connection, ctx: RequestContext, name: str) -> Row[Any]:
        key = {"account": ctx.account, "region": ctx.region, "name_key": name.lower()}
        row = conn.execute(_FIND_SCHEDULE, key).first()
        if row is None:
            raise ResourceNotFound(f"Monitoring schedule {name} does not exist")
        return row

    def _activation_time(self, now: float) -> float:
        return now + self.settings.schedule_activation_seconds

    # --- operations -------------------------------------------------------------------------------

    def create(self, ctx: RequestContext, name: str, config: dict[str, Any], tags: list[dict[str, Any]]) -> str:
        arn = ctx.arn("monitoring-schedule", name)
        now = self.clock.now()
        try:
            with self.db.write() as conn:
                derived = self._resolve(conn, ctx, config)
                scope = and_(monitoring_schedules.c.account == ctx.account, monitoring_schedules.c.region == ctx.region)
                count = conn.execute(select(func.count()).select_from(monitoring_schedules).where(scope)).scalar_one()
                if count >= self.settings.max_monitoring_schedules:
                    raise ResourceLimitExceeded(
                        "The account-level service limit 'Total number of monitoring schedules' is "
                        f"{self.settings.max_monitoring_schedules}, with current utilization of {count}"
                    )
                conn.execute(
                    insert(monitoring_schedules).values(
                        account=ctx.account,
                        region=ctx.region,
                        name=name,
                        name_key=name.lower(),
                        arn=arn,
                        status=PENDING,
                        creation_time=millis(now),
                        last_modified_time=millis(now),
                        config=orjson.dumps(config).decode(),
                        pending_until=self._activation_time(now),
                        **derived,
                    )
                )
                self.tags.put(conn, arn, tags)
        except IntegrityError:
            raise ResourceInUse(f"Monitoring schedule {name} already exists") from None
        return arn

    def describe(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._find(conn, ctx, name)
            last = conn.execute(
                _LAST_EXECUTION,
                {
                    "account": ctx.account,
                    "region": ctx.region,
                    "name_key": row.name_key,
                    "since": row.creation_time,
                },
            ).first()
        config = orjson.loads(row.config)
        if "MonitoringJobDefinition" in config:
            config["MonitoringJobDefinition"] = echo_job_definition(config["MonitoringJobDefinition"])
        result: dict[str, Any] = {
            "MonitoringScheduleArn": row.arn,
            "MonitoringScheduleName": row.name,
            "MonitoringScheduleStatus": row.status,
            "MonitoringType": row.monitoring_type,
            "CreationTime": row.creation_time,
            "LastModifiedTime": row.last_modified_time,
            "MonitoringScheduleConfig": config,
        }
        if row.failure_reason:
            result["FailureReason"] = row.failure_reason
        if row.endpoint_name:
            result["EndpointName"] = row.endpoint_name
        if last is not None:
            result["LastMonitoringExecutionSummary"] = summary_of(last)
        return result

    def update(self, ctx: RequestContext, name: str, config: dict[str, Any]) -> str:
        now = self.clock.now()
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            derived = self._resolve(conn, ctx, config)
            # An update does not restart a stopped schedule (documented choice, docs/api-coverage.md).
            status = STOPPED if row.status == STOPPED else PENDING
            conn.execute(
                update(monitoring_schedules)
                .where(monitoring_schedules.c.id == row.id)
                .values(
                    config=orjson.dumps(config).decode(),
                    status=status,
                    failure_reason=None,
                    last_modified_time=millis(now),
                    pending_until=self._activation_time(now) if status == PENDING else None,
                    **derived,
                )
            )
        return row.arn

    def delete(self, ctx: RequestContext, name: str) -> None:
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            conn.execute(delete(monitoring_schedules).where(monitoring_schedules.c.id == row.id))
            self.tags.drop_all(conn, row.arn)

    def start(self, ctx: RequestContext, name: str) -> None:
        now = self.clock.now()
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            if row.status in (SCHEDULED, PENDING):
                return
            conn.execute(
                update(monitoring_schedules)
                .where(monitoring_schedules.c.id == row.id)
                .values(
                    status=PENDING,
                    failure_reason=None,
                    last_modified_time=millis(now),
                    pending_until=self._activation_time(now),
                )
            )

    def stop(self, ctx: RequestContext, name: str) -> None:
        now = self.clock.now()
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            if row.status == STOPPED:
                return
            conn.execute(
                update(monitoring_schedules)
                .where(monitoring_schedules.c.id == row.id)
                .values(status=STOPPED, last_modified_time=millis(now), pending_until=None)
            )

    def activate_pending(self) -> int:
        """Pending → Scheduled once the activation delay has passed, with the first fire time after now
        (no catch-up for the current hour; a NOW schedule fires at once). Idempotent across processes.

        A schedule whose stored expression no longer parses (a database from an older version) is set
        `Failed` with the reason; the others are activated all the same, a chunk of those sharing a first fire
        time per statement (10,000 NOW schedules released at once are a few statements, not 10,000)."""
        now = self.clock.now()
        with self.db.read() as conn:
            due = conn.execute(
                select(
                    monitoring_schedules.c.id,
                    monitoring_schedules.c.name,
                    monitoring_schedules.c.config,
                    monitoring_schedules.c.status,
                ).where(monitoring_schedules.c.status == PENDING, monitoring_schedules.c.pending_until <= now)
            ).all()
        by_fire_time: dict[float, list[int]] = {}
        for row in due:
            try:
                spec = parse_schedule_expression(
                    (orjson.loads(row.config).get("ScheduleConfig") or {}).get("ScheduleExpression")
                )
                # NOW fires at the next whole second: capture times have second precision, and a window that
                # ends inside the current second would leave out what was captured in it.
                next_fire = float(math.ceil(now)) if spec.kind == "now" else next_fire_after(spec, now)
            except Exception as exc:  # the stored config is at fault: this schedule fails, the others go on
                self.fail(row, f"The schedule could not be activated: {failure_text(exc)}")
                continue
            by_fire_time.setdefault(next_fire, []).append(row.id)
        activated = 0
        for next_fire, ids in by_fire_time.items():
            for chunk in range(0, len(ids), ACTIVATION_CHUNK):
                with self.db.write() as conn:
                    activated += self._activate(conn, ids[chunk : chunk + ACTIVATION_CHUNK], next_fire)
        return activated

    @staticmethod
    def _activate(conn: Connection, ids: list[int], next_fire: float) -> int:
        t = monitoring_schedules
        # Rows another scheduler is activating right now are skipped (PostgreSQL), not waited for: it sets the
        # same values, and two updates of overlapping rows in different orders could deadlock.
        still_pending = select(t.c.id).where(t.c.id.in_(ids), t.c.status == PENDING).with_for_update(skip_locked=True)
        return conn.execute(
            update(t)
            .where(t.c.id.in_(still_pending), t.c.status == PENDING)
            .values(status=SCHEDULED, pending_until=None, next_fire_time=next_fire)
        ).rowcount

    def fail(self, row: Row[Any], reason: str) -> bool:
        """Set a schedule `Failed` with `reason` unless it changed meanwhile (another process failed it, or a
        user updated, stopped or deleted it). Logged here, so once whichever process gets there first;
        UpdateMonitoringSchedule or StartMonitoringSchedule makes it Pending again."""
        with self.db.write() as conn:
            failed = self.fail_in(conn, row, reason)
        if failed:
            log_failed(row.name, failed)
        return failed is not None

    def fail_in(self, conn: Connection, row: Row[Any], reason: str) -> str | None:
        """`fail` in the caller's transaction: the reason as stored if the schedule was failed, for the caller
        to log (`log_failed`) once committed."""
        reason = reason if len(reason) <= MAX_FAILURE_REASON else reason[: MAX_FAILURE_REASON - 3] + "..."
        changed = conn.execute(
            update(monitoring_schedules)
            .where(monitoring_schedules.c.id == row.id, monitoring_schedules.c.status == row.status)
            .values(
                status=FAILED,
                failure_reason=reason,
                pending_until=None,
                last_modified_time=millis(self.clock.now()),
            )
        ).rowcount
        return reason if changed else None

    @staticmethod
    def claim_due(
        conn: Connection, now: float, limit: int, skip: Collection[int] = (), schedule_id: int | None = None
    ) -> list[Row[Any]]:
        """Up to `limit` Scheduled schedules whose fire time has come (oldest first), held by the caller's write
        transaction until it ends. On PostgreSQL a row another scheduler holds is skipped (SKIP LOCKED) and one it
        fired meanwhile no longer matches, so replicas never attempt the same schedule; on SQLite the write
        transaction (BEGIN IMMEDIATE) is exclusive already. `skip`: ids not to take again in this tick."""
        t = monitoring_schedules
        query = select(t).where(t.c.status == SCHEDULED, t.c.next_fire_time <= now)
        if skip:
            query = query.where(t.c.id.not_in(skip))
        if schedule_id is not None:
            query = query.where(t.c.id == schedule_id)
        query = query.order_by(t.c.next_fire_time, t.c.id).limit(limit).with_for_update(skip_locked=True)
        return list(conn.execute(query).all())

    @staticmethod
    def advance(conn: Connection, moves: list[tuple[Row[Any], float | None]]) -> None:
        """Each (schedule, next fire time) in one statement: None once a NOW schedule has fired. Conditional on
        the fire time read, so a schedule another process advanced meanwhile is left as it is."""
        if not moves:
            return
        t = monitoring_schedules
        conn.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.next_fire_time == bindparam("b_was"))
            .values(next_fire_time=bindparam("b_next")),
            [{"b_id": row.id, "b_was": row.next_fire_time, "b_next": next_fire} for row, next_fire in moves],
        )

    def find_row(self, ctx: RequestContext, name: str) -> Row[Any]:
        with self.db.read() as conn:
            return self._find(conn, ctx, name)

    def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        t = monitoring_schedules
        conditions = list_filters(
            t,
            ctx,
            params,
            times={"CreationTime": t.c.creation_time, "LastModifiedTime": t.c.last_modified_time},
            equals={"StatusEquals": t.c.status, "MonitoringTypeEquals": t.c.monitoring_type},
            names={"EndpointName": t.c.endpoint_name, "MonitoringJobDefinitionName": t.c.job_definition_name},
        )
        with self.db.read() as conn:
            page = paginate(
                conn,
                select(t).where(*conditions),
                params,
                {"Name": t.c.name, "CreationTime": t.c.creation_time, "Status": t.c.status},
                t.c.id,
            )
        summaries = []
        for row in page.rows:
            summary = {
                "MonitoringScheduleName": row.name,
                "MonitoringScheduleArn": row.arn,
                "CreationTime": row.creation_time,
                "LastModifiedTime": row.last_modified_time,
                "MonitoringScheduleStatus": row.status,
                "MonitoringType": row.monitoring_type,
            }
            if row.endpoint_name:
                summary["EndpointName"] = row.endpoint_name
            if row.job_definition_name:
                summary["MonitoringJobDefinitionName"] = row.job_definition_name
            summaries.append(summary)
        return page.result("MonitoringScheduleSummaries", summaries)


def log_failed(name: str, reason: str) -> None:
    log.error("monitoring schedule %s failed: %s", name, reason)


def failure_text(exc: BaseException) -> str:
    """An exception as a FailureReason: an AWS error's message as is, anything else with its type."""
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

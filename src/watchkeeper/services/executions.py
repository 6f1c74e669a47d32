"""Monitoring executions as the API reports them (ListMonitoringExecutions, last-execution summaries), and
the starter that creates one per schedule and fire time and hands it to the plan runner (services/plans.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Insert, Row, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.capture.batch_staging import manifest_objects
from watchkeeper.clock import Clock, millis
from watchkeeper.errors import ResourceInUse, ValidationError
from watchkeeper.scheduling.execution_jobs import CannotPlan, CaptureSource, ExecutionInputs, normalise_definition
from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import Window, analysis_window
from watchkeeper.services.baselines import resolve_baseline
from watchkeeper.services.buckets import claim_or_check
from watchkeeper.services.context import RequestContext
from watchkeeper.services.endpoints import Deployment
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.lookup import find_named
from watchkeeper.services.monitoring_types import MonitoringType, monitoring_type, not_runnable_reason
from watchkeeper.services.plans import PlanRunner
from watchkeeper.services.processing_jobs import ProcessingJobService, job_row
from watchkeeper.storage.base import ObjectStore, parse_s3_uri
from watchkeeper.store import Database
from watchkeeper.store.tables import endpoints, job_definitions, monitoring_executions, processing_jobs

log = logging.getLogger(__name__)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary_of(row: Row[Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "MonitoringScheduleName": row.schedule_name,
        "ScheduledTime": row.scheduled_time,
        "CreationTime": row.creation_time,
        "LastModifiedTime": row.last_modified_time,
        "MonitoringExecutionStatus": row.status,
    }
    optional = {
        "ProcessingJobArn": row.processing_job_arn,
        "EndpointName": row.endpoint_name,
        "FailureReason": row.failure_reason,
        "MonitoringJobDefinitionName": row.job_definition_name,
        "MonitoringType": row.monitoring_type,
    }
    summary.update({k: v for k, v in optional.items() if v})
    return summary


class ExecutionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        t = monitoring_executions
        conditions = list_filters(
            t,
            ctx,
            params,
            times={
                "ScheduledTime": t.c.scheduled_time,
                "CreationTime": t.c.creation_time,
                "LastModifiedTime": t.c.last_modified_time,
            },
            equals={"StatusEquals": t.c.status, "MonitoringTypeEquals": t.c.monitoring_type},
            names={
                "MonitoringScheduleName": t.c.schedule_name,
                "EndpointName": t.c.endpoint_name,
                "MonitoringJobDefinitionName": t.c.job_definition_name,
            },
        )
        with self.db.read() as conn:
            page = paginate(
                conn,
                select(t).where(*conditions),
                params,
                {
                    "CreationTime": t.c.creation_time,
                    "ScheduledTime": t.c.scheduled_time,
                    "Status": t.c.status,
                },
                t.c.id,
            )
        return page.result("MonitoringExecutionSummaries", [summary_of(r) for r in page.rows])


@dataclass(frozen=True)
class Started:
    """A new execution: its first job, or (job_name None) the reason it failed at once."""

    execution_id: int
    job_name: str | None
    failure_reason: str | None = None


@dataclass(frozen=True)
class Planned:
    """An execution ready to be written: its row (the plan's later jobs in `next_job`), and its first job's
    request (none when it fails at once, with the reason in `failure`)."""

    schedule: Row[Any]
    ctx: RequestContext
    values: dict[str, Any]
    requests: list[dict[str, Any]]
    failure: str | None

    @property
    def key(self) -> tuple[str, str, str, float]:
        return self.values["account"], self.values["region"], self.values["schedule_key"], self.values["scheduled_time"]


class Lookups:
    """What the executions planned in one transaction read in common (job definitions, endpoints), read once:
    a tick starts many schedules of few endpoints."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, ...], Any] = {}

    def get(self, key: tuple[str, ...], read: Callable[[], Any]) -> Any:
        if key not in self._seen:
            try:
                self._seen[key] = read()
            except CannotPlan as reason:  # the same reason for every schedule of that endpoint
                self._seen[key] = reason
        value = self._seen[key]
        if isinstance(value, CannotPlan):
            raise CannotPlan(str(value))
        return value


def insert_new(conn: Connection, table: Table) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING: a row that would break a unique key is left out, and no savepoint is
    needed (on PostgreSQL a failed statement would abort the whole transaction)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


class ExecutionStarter:
    """Creates one monitoring execution per schedule and fire time, and hands it to the plan runner.

    In two steps, so that a scheduler can start many in one transaction: `plan` reads what an execution needs
    and builds its jobs' requests (a schedule's fault raises here, before its execution is written); `record` writes
    the executions and their first jobs with a few statements for all of them."""

    def __init__(
        self, db: Database, clock: Clock, processing_jobs: ProcessingJobService, store: ObjectStore | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.processing_jobs = processing_jobs
        self.store = store  # lists batch-capture manifests; without it batch executions stage none
        self.plans = PlanRunner(clock, processing_jobs)

    def start(self, schedule: Row[Any], scheduled_time: float, window: Window | None = None) -> Started | None:
        """The new execution, or None if this fire time already has one."""
        with self.db.write() as conn:
            planned = self.plan(conn, schedule, scheduled_time, window)
            (started,) = self.record(conn, [planned])
        self.log_outcome(planned, started)
        return started

    def plan(
        self,
        conn: Connection,
        schedule: Row[Any],
        scheduled_time: float,
        window: Window | None = None,
        lookups: Lookups | None = None,
    ) -> Planned:
        """The execution of `schedule` at `scheduled_time`, planned; raises if what the schedule stores cannot
        run (the schedule's fault), while a plan that cannot be built makes a Failed execution."""
        lookups = lookups or Lookups()
        ctx = RequestContext(schedule.account, schedule.region)
        config = orjson.loads(schedule.config)
        spec = parse_schedule_expression((config.get("ScheduleConfig") or {}).get("ScheduleExpression"))
        kind = monitoring_type(schedule.monitoring_type or "DataQuality")
        now = millis(self.clock.now())
        stored = None
        if schedule.job_definition_name:
            body = lookups.get(
                ("definition", ctx.account, ctx.region, schedule.monitoring_type, schedule.job_definition_name),
                lambda: self._definition_body(conn, ctx, schedule),
            )
            stored = orjson.loads(body) if body else {}
        definition = normalise_definition(kind.name, config, stored)
        source = definition["MonitoringInputs"][0]
        source = source.get("EndpointInput") or source.get("BatchTransformInput") or {}
        window = window or analysis_window(spec, scheduled_time, config.get("ScheduleConfig"), source)
        values: dict[str, Any] = {
            "account": schedule.account,
            "region": schedule.region,
            "schedule_name": schedule.name,
            "schedule_key": schedule.name_key,
            "scheduled_time": scheduled_time,
            "creation_time": now,
            "last_modified_time": now,
            "status": "Pending",
            "endpoint_name": schedule.endpoint_name,
            "job_definition_name": schedule.job_definition_name,
            "monitoring_type": schedule.monitoring_type,
            "window_start": window.start,
            "window_end": window.end,
            "processing_job_arn": None,
            "processing_job_name": None,
            "next_job": None,
        }
        try:
            requests = self._plan(conn, ctx, schedule, kind, stored, definition, scheduled_time, window, lookups)
        except CannotPlan as reason:
            return Planned(schedule, ctx, values, [], str(reason))
        first, recorded = self.plans.first_job(ctx, requests)  # a request AWS would refuse: the schedule's fault
        values.update(recorded)
        return Planned(schedule, ctx, values, [first], None)

    def record(self, conn: Connection, planned: list[Planned]) -> list[Started | None]:
        """Write the executions and their first jobs; None for a fire time that already had an execution
        (another scheduler, or `watchkeeper run`). ResourceInUse if a job's name is taken."""
        if not planned:
            return []
        t = monitoring_executions
        inserted = conn.execute(
            insert_new(conn, t).returning(t.c.id, t.c.account, t.c.region, t.c.schedule_key, t.c.scheduled_time),
            [p.values for p in planned],
        ).all()
        ids = {(r.account, r.region, r.schedule_key, r.scheduled_time): r.id for r in inserted}
        self._insert_jobs(conn, [p for p in planned if p.key in ids and p.requests])
        results: list[Started | None] = []
        for p in planned:
            execution_id = ids.get(p.key)
            if execution_id is None:
                results.append(None)
            elif p.failure is not None:
                self.plans.fail(conn, execution_id, p.failure)
                results.append(Started(execution_id, None, p.failure))
            else:
                results.append(Started(execution_id, p.values["processing_job_name"]))
        return results

    def _insert_jobs(self, conn: Connection, planned: list[Planned]) -> None:
        if not planned:
            return
        now = millis(self.clock.now())
        rows = [job_row(p.ctx, p.requests[0], p.schedule.arn, now) for p in planned]
        t = processing_jobs
        written = {
            r.arn for r in conn.execute(insert_new(conn, t).returning(t.c.arn), rows)
        }
        for row, p in zip(rows, planned, strict=True):
            if row["arn"] not in written:
                raise ResourceInUse(f"Job with name {row['name']} already exists")
            if p.requests[0].get("Tags"):
                self.processing_jobs.tags.put(conn, row["arn"], p.requests[0]["Tags"])

    @staticmethod
    def log_outcome(planned: Planned, started: Started | None) -> None:
        """One line per execution started or failed at once; called once its transaction is committed."""
        if started is None:
            return
        name, scheduled = planned.schedule.name, _iso(planned.values["scheduled_time"])
        if started.job_name is None:
            log.warning(
                "monitoring execution failed: schedule=%s scheduled=%s status=Failed reason=%s",
                name, scheduled, started.failure_reason,
            )
            return
        log.info(
            "monitoring execution started: schedule=%s scheduled=%s job=%s window=[%s, %s) status=Pending",
            name, scheduled, started.job_name, _iso(planned.values["window_start"]),
            _iso(planned.values["window_end"]),
        )

    @staticmethod
    def _definition_body(conn: Connection, ctx: RequestContext, schedule: Row[Any]) -> str | None:
        row = find_named(
            conn, job_definitions, ctx, schedule.job_definition_name, monitoring_type=schedule.monitoring_type
        )
        return row.body if row else None

    def _plan(
        self,
        conn: Connection,
        ctx: RequestContext,
        schedule: Row[Any],
        kind: MonitoringType,
        stored: dict[str, Any] | None,
        definition: dict[str, Any],
        scheduled_time: float,
        window: Window,
        lookups: Lookups,
    ) -> list[dict[str, Any]]:
        """The request of every job of the type's plan, in order; CannotPlan with the execution's reason."""
        if stored == {}:
            raise CannotPlan(f"The job definition {schedule.job_definition_name} of this schedule no longer exists.")
        reason = not_runnable_reason(kind)
        if reason:
            raise CannotPlan(reason)
        definition = resolve_baseline(conn, ctx, kind.name, definition)
        capture = None
        if schedule.endpoint_name:
            capture = lookups.get(
                ("endpoint", ctx.account, ctx.region, schedule.endpoint_name),
                lambda: self._capture_source(conn, ctx, schedule.endpoint_name),
            )
        batch = definition["MonitoringInputs"][0].get("BatchTransformInput")
        named = self._manifest_objects(conn, ctx, batch, window) if batch else ()
        inputs = ExecutionInputs.of(kind.name, definition, schedule.name, scheduled_time, window, capture, named)
        return [job.build(inputs) for job in kind.plan if job.build is not None]

    def _manifest_objects(
        self, conn: Connection, ctx: RequestContext, batch: dict[str, Any], window: Window
    ) -> tuple[str, ...]:
        """The objects the window's batch-capture manifests name. A manifest can name any bucket, so each
        one is held to the bucket rule of the schedule's account, as a URI in a request would be."""
        if self.store is None:
            return ()
        uris = manifest_objects(self.store, batch["DataCapturedDestinationS3Uri"], window.hours)
        for bucket in sorted({parse_s3_uri(uri).bucket for uri in uris}):
            try:
                claim_or_check(conn, ctx, bucket, "a batch-capture manifest's object", f"s3://{bucket}/")
            except ValidationError as exc:
                raise CannotPlan(exc.message) from None
        return tuple(uris)

    @staticmethod
    def _capture_source(conn: Connection, ctx: RequestContext, endpoint: str) -> CaptureSource:
        row = find_named(conn, endpoints, ctx, endpoint)
        if row is None:
            raise CannotPlan(
                f"Endpoint {endpoint} does not exist in this Watchkeeper, so where its captured data lives is unknown. "
                "Create it (a model without WATCHKEEPER_UPSTREAM_URL is enough) with a DataCaptureConfig."
            )
        deployment = Deployment.from_json(row.deployment)
        destination = (deployment.data_capture or {}).get("DestinationS3Uri")
        if not destination:
            raise CannotPlan(f"Endpoint {endpoint} has no DataCaptureConfig: there is no captured data to monitor.")
        return CaptureSource(destination, endpoint, tuple(v.name for v in deployment.variants))

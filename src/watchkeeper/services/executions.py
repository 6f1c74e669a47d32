"""Monitoring executions as the API reports them (ListMonitoringExecutions, last-execution summaries), and
the starter that creates one per schedule and fire time and hands it to the plan runner (services/plans.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, insert, select
from sqlalchemy.exc import IntegrityError

from watchkeeper.capture.batch_staging import manifest_objects
from watchkeeper.clock import Clock, millis
from watchkeeper.errors import ValidationError
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
from watchkeeper.services.processing_jobs import ProcessingJobService
from watchkeeper.storage.base import ObjectStore, parse_s3_uri
from watchkeeper.store import Database
from watchkeeper.store.tables import endpoints, job_definitions, monitoring_executions

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


class ExecutionStarter:
    """Creates one monitoring execution per schedule and fire time, and hands it to the plan runner."""

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
        ctx = RequestContext(schedule.account, schedule.region)
        config = orjson.loads(schedule.config)
        spec = parse_schedule_expression((config.get("ScheduleConfig") or {}).get("ScheduleExpression"))
        kind = monitoring_type(schedule.monitoring_type or "DataQuality")
        now = millis(self.clock.now())
        with self.db.write() as conn:
            stored = None
            if schedule.job_definition_name:
                row = find_named(
                    conn, job_definitions, ctx, schedule.job_definition_name, monitoring_type=schedule.monitoring_type
                )
                stored = orjson.loads(row.body) if row else {}
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
            }
            try:
                with conn.begin_nested():
                    execution_id = conn.execute(insert(monitoring_executions).values(**values)).inserted_primary_key[0]
            except IntegrityError:
                return None  # another scheduler (or an earlier tick) started this fire time
            try:
                requests = self._plan(conn, ctx, schedule, kind, stored, definition, scheduled_time, window)
            except CannotPlan as reason:
                self.plans.fail(conn, execution_id, str(reason))
                log.warning(
                    "monitoring execution failed: schedule=%s scheduled=%s status=Failed reason=%s",
                    schedule.name, _iso(scheduled_time), reason,
                )
                return Started(execution_id, None, str(reason))
            job_name = self.plans.begin(conn, ctx, execution_id, requests, schedule.arn)
            log.info(
                "monitoring execution started: schedule=%s scheduled=%s job=%s window=[%s, %s) status=Pending",
                schedule.name, _iso(scheduled_time), job_name, _iso(window.start), _iso(window.end),
            )
            return Started(execution_id, job_name)

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
    ) -> list[dict[str, Any]]:
        """The request of every job of the type's plan, in order; CannotPlan with the execution's reason."""
        if stored == {}:
            raise CannotPlan(f"The job definition {schedule.job_definition_name} of this schedule no longer exists.")
        reason = not_runnable_reason(kind)
        if reason:
            raise CannotPlan(reason)
        definition = resolve_baseline(conn, ctx, kind.name, definition)
        capture = self._capture_source(conn, ctx, schedule.endpoint_name) if schedule.endpoint_name else None
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

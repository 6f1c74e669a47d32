"""Monitoring executions as the API reports them (ListMonitoringExecutions, last-execution summaries)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.scheduling.execution_jobs import (
    CaptureSource,
    data_quality_request,
    model_quality_requests,
    normalise_definition,
)
from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import Window, analysis_window
from watchkeeper.services.context import RequestContext
from watchkeeper.services.endpoints import Deployment
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.lookup import find_named
from watchkeeper.services.processing_jobs import ProcessingJobService, check_request
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


class ExecutionStarter:
    """Creates one monitoring execution and its processing job, once per schedule and fire time."""

    def __init__(self, db: Database, clock: Clock, processing_jobs: ProcessingJobService) -> None:
        self.db = db
        self.clock = clock
        self.processing_jobs = processing_jobs

    def start(self, schedule: Row[Any], scheduled_time: float, window: Window | None = None) -> str | None:
        """The execution's processing-job name, or None if this fire time already has an execution."""
        ctx = RequestContext(schedule.account, schedule.region)
        config = orjson.loads(schedule.config)
        spec = parse_schedule_expression((config.get("ScheduleConfig") or {}).get("ScheduleExpression"))
        now = millis(self.clock.now())
        with self.db.write() as conn:
            stored = None
            if schedule.job_definition_name:
                row = find_named(
                    conn, job_definitions, ctx, schedule.job_definition_name, monitoring_type=schedule.monitoring_type
                )
                stored = orjson.loads(row.body) if row else {}
            definition = normalise_definition(schedule.monitoring_type, config, stored)
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
            capture, reason = None, self._unsupported(schedule, stored, definition)
            if reason is None and schedule.endpoint_name:
                capture, reason = self._capture_source(conn, ctx, schedule.endpoint_name)
            if reason is None and schedule.monitoring_type == "ModelQuality" and capture is None:
                reason = "A ModelQuality schedule needs an endpoint input whose endpoint captures its traffic."
            if reason is not None:
                conn.execute(
                    update(monitoring_executions)
                    .where(monitoring_executions.c.id == execution_id)
                    .values(status="Failed", failure_reason=reason)
                )
                log.warning(
                    "monitoring execution failed: schedule=%s scheduled=%s status=Failed reason=%s",
                    schedule.name, _iso(scheduled_time), reason,
                )
                return None
            next_job = None
            if schedule.monitoring_type == "ModelQuality":
                assert capture is not None
                request, analysis = model_quality_requests(
                    definition=definition,
                    schedule_name=schedule.name,
                    scheduled_time=scheduled_time,
                    window=window,
                    capture=capture,
                    ground_truth_uri=definition["MonitoringInputs"][0]["GroundTruthS3Input"]["S3Uri"],
                    problem_type=definition["MonitoringAppSpecification"].get("ProblemType"),
                )
                check_request(analysis)  # the job that runs later is refused now, not when the merge ends
                next_job = orjson.dumps(analysis).decode()
            else:
                request = data_quality_request(
                    definition=definition,
                    schedule_name=schedule.name,
                    scheduled_time=scheduled_time,
                    window=window,
                    capture=capture,
                )
            arn = self.processing_jobs.insert(conn, ctx, request, monitoring_schedule_arn=schedule.arn)
            conn.execute(
                update(monitoring_executions)
                .where(monitoring_executions.c.id == execution_id)
                .values(processing_job_arn=arn, processing_job_name=request["ProcessingJobName"], next_job=next_job)
            )
            log.info(
                "monitoring execution started: schedule=%s scheduled=%s job=%s window=[%s, %s) status=Pending",
                schedule.name, _iso(scheduled_time), request["ProcessingJobName"], _iso(window.start),
                _iso(window.end),
            )
            return str(request["ProcessingJobName"])

    @staticmethod
    def _unsupported(schedule: Row[Any], stored: dict[str, Any] | None, definition: dict[str, Any]) -> str | None:
        if stored == {}:
            return f"The job definition {schedule.job_definition_name} of this schedule no longer exists."
        if schedule.monitoring_type not in ("DataQuality", "ModelQuality"):
            return (
                f"{schedule.monitoring_type} executions are not supported by this Watchkeeper version yet; "
                "DataQuality and ModelQuality schedules run."
            )
        if schedule.monitoring_type == "ModelQuality" and not (
            definition["MonitoringInputs"][0].get("GroundTruthS3Input") or {}
        ).get("S3Uri"):
            return "A ModelQuality schedule needs a GroundTruthS3Input."
        return None

    @staticmethod
    def _capture_source(
        conn: Connection, ctx: RequestContext, endpoint: str
    ) -> tuple[CaptureSource | None, str | None]:
        row = find_named(conn, endpoints, ctx, endpoint)
        if row is None:
            return None, (
                f"Endpoint {endpoint} does not exist in this Watchkeeper, so where its captured data lives is unknown. "
                "Create it (a model without WATCHKEEPER_UPSTREAM_URL is enough) with a DataCaptureConfig."
            )
        deployment = Deployment.from_json(row.deployment)
        destination = (deployment.data_capture or {}).get("DestinationS3Uri")
        if not destination:
            return None, f"Endpoint {endpoint} has no DataCaptureConfig: there is no captured data to monitor."
        return CaptureSource(destination, endpoint, tuple(v.name for v in deployment.variants)), None

"""The plan runner: moves a monitoring execution through the jobs of its type's plan (services/monitoring_types.py).

- `first_job` checks the request of every job of the plan at once (so a job that would be refused later is
  refused now); the starter (services/executions.py) inserts the first job and keeps the others' requests, in
  order, in the execution's `next_job` column (a JSON list; a single request object as written by revision
  0004's code is read as a list of one).
- `job_changed` is called by ProcessingJobService in the transaction of every status change of a job. When a
  job of an execution ends, the plan runner decides: Completed with jobs left → the next job starts and the
  execution points at it (as SageMaker switches ProcessingJobArn); otherwise the execution takes its final
  status from the job's outcome (Completed / CompletedWithViolations / Failed with the job's reason / Stopped).
  While a job runs, the execution mirrors its status (InProgress, Stopping).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, Row, select, update

from watchkeeper.clock import Clock, millis
from watchkeeper.services.context import RequestContext
from watchkeeper.services.processing_jobs import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    TERMINAL,
    ProcessingJobService,
    check_request,
)
from watchkeeper.store.tables import monitoring_executions

log = logging.getLogger(__name__)

EXECUTION_TERMINAL = ("Completed", "CompletedWithViolations", "Failed", "Stopped")

# Told (connection, execution id, final status) in the transaction that ends an execution.
ExecutionEndHook = Callable[[Connection, int, str], None]


def execution_status(job_status: str, exit_message: str | None, result_status: str | None = None) -> str:
    """A monitoring execution's status from its last job's (spec §2.5). A completed built-in job's typed result
    (result.json) tells Completed from CompletedWithViolations; a custom analyzer, which writes none, says it
    in the first word of its message, as SageMaker's contract has it."""
    if job_status != COMPLETED:
        return job_status
    if result_status is not None:
        return result_status
    if (exit_message or "").startswith("CompletedWithViolations"):
        return "CompletedWithViolations"
    return job_status


def _remaining(stored: str | None) -> list[dict[str, Any]]:
    if not stored:
        return []
    value = orjson.loads(stored)
    return value if isinstance(value, list) else [value]


class PlanRunner:
    def __init__(self, clock: Clock, processing_jobs: ProcessingJobService) -> None:
        self.clock = clock
        self.processing_jobs = processing_jobs
        self._end_hooks: list[ExecutionEndHook] = []
        processing_jobs.watch(self.job_changed)

    def on_execution_end(self, hook: ExecutionEndHook) -> None:
        """Call `hook` in the transaction that gives an execution its final status (monitoring alerts)."""
        self._end_hooks.append(hook)

    def _ended(self, conn: Connection, execution_id: int, status: str) -> None:
        for hook in self._end_hooks:
            hook(conn, execution_id, status)

    @staticmethod
    def first_job(ctx: RequestContext, requests: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first job's request of a plan that built `requests`, and what its execution records: the job it
        points at and the others' requests, in order. Every request is checked here, before anything is written."""
        for request in requests:
            check_request(request)
        first, rest = requests[0], requests[1:]
        return first, {
            "processing_job_arn": ctx.arn("processing-job", first["ProcessingJobName"]),
            "processing_job_name": first["ProcessingJobName"],
            "next_job": orjson.dumps(rest).decode() if rest else None,
        }

    def fail(self, conn: Connection, execution_id: int, reason: str) -> None:
        """An execution that cannot start (its plan cannot be built) is Failed with the reason."""
        conn.execute(
            update(monitoring_executions)
            .where(monitoring_executions.c.id == execution_id)
            .values(status=FAILED, failure_reason=reason, last_modified_time=millis(self.clock.now()))
        )
        self._ended(conn, execution_id, FAILED)

    def job_changed(self, conn: Connection, job: Row[Any], status: str, values: dict[str, Any]) -> None:
        execution = conn.execute(
            select(
                monitoring_executions.c.id, monitoring_executions.c.next_job, monitoring_executions.c.schedule_name
            ).where(monitoring_executions.c.processing_job_arn == job.arn)
        ).first()
        if execution is None:
            return  # a job of no execution (CreateProcessingJob)
        now = millis(self.clock.now())
        remaining = _remaining(execution.next_job)
        if status == COMPLETED and remaining:
            request, rest = remaining[0], remaining[1:]
            arn = self.processing_jobs.insert(
                conn, RequestContext(job.account, job.region), request, job.monitoring_schedule_arn
            )
            conn.execute(
                update(monitoring_executions)
                .where(monitoring_executions.c.id == execution.id)
                .values(
                    processing_job_arn=arn,
                    processing_job_name=request["ProcessingJobName"],
                    next_job=orjson.dumps(rest).decode() if rest else None,
                    status=IN_PROGRESS,
                    last_modified_time=now,
                )
            )
            log.info(
                "monitoring execution continues: schedule=%s job=%s completed, next job=%s status=InProgress",
                execution.schedule_name, job.name, request["ProcessingJobName"],
            )
            return
        changes: dict[str, Any] = {
            "status": execution_status(status, values.get("exit_message"), values.get("result_status")),
            "last_modified_time": now,
        }
        if values.get("failure_reason"):
            changes["failure_reason"] = values["failure_reason"]
        if status in TERMINAL:
            changes["next_job"] = None  # the plan ends here, whatever was left
        conn.execute(update(monitoring_executions).where(monitoring_executions.c.id == execution.id).values(**changes))
        if status in TERMINAL:
            self._ended(conn, execution.id, changes["status"])
        if status == FAILED:
            log.warning(
                "monitoring execution failed: schedule=%s job=%s status=Failed reason=%s",
                execution.schedule_name, job.name, values.get("failure_reason") or "(none given)",
            )
        elif status in TERMINAL:
            log.info(
                "monitoring execution ended: schedule=%s job=%s status=%s message=%s",
                execution.schedule_name, job.name, changes["status"], values.get("exit_message") or "",
            )

"""Processing jobs: the API's Create/Describe/List/Stop, and the lease-based lifecycle the runner drives.

Status: InProgress (created; a runner claims it) → Completed | Failed | Stopping → Stopped. A job's runner
holds a lease it renews while the job runs; a lease that expires means that runner died, and the job is
failed with a reason (never left InProgress). Each state change is told to the watchers (the plan runner,
services/plans.py, which moves the monitoring execution the job belongs to) in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.errors import ResourceInUse, ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.locations import check_locations
from watchkeeper.services.lookup import find_named
from watchkeeper.services.tags import TagService
from watchkeeper.store import Database
from watchkeeper.store.tables import processing_jobs

log = logging.getLogger(__name__)

IN_PROGRESS, COMPLETED, FAILED, STOPPING, STOPPED = "InProgress", "Completed", "Failed", "Stopping", "Stopped"
TERMINAL = (COMPLETED, FAILED, STOPPED)

# Told of each status change of a job, in its transaction: (connection, the job's row before, status, values set).
JobWatcher = Callable[[Connection, Row[Any], str, dict[str, Any]], None]


def check_request(
    params: dict[str, Any], conn: Connection | None = None, ctx: RequestContext | None = None
) -> None:
    """What CreateProcessingJob refuses beyond the request's shape (also applied to the jobs executions build).

    With the write transaction and the caller (the API's CreateProcessingJob), every S3 URI's bucket is
    claimed or refused as another account's; the jobs executions build claim nothing (their URIs come from
    resources checked when they were created).
    """
    check_locations("CreateProcessingJob", params, conn, ctx)
    seen: set[str] = set()
    for item in params.get("ProcessingInputs") or []:
        if item["InputName"] in seen:
            raise ValidationError(f"ProcessingInputs has two inputs named '{item['InputName']}'")
        seen.add(item["InputName"])
        if "DatasetDefinition" in item:
            raise ValidationError("DatasetDefinition inputs (Athena, Redshift) are not supported; use S3Input")


def job_row(
    ctx: RequestContext, params: dict[str, Any], monitoring_schedule_arn: str | None, now: float
) -> dict[str, Any]:
    """The row of a new job (InProgress, unclaimed) from a checked request; its Tags are stored apart."""
    name = params["ProcessingJobName"]
    body = {k: v for k, v in params.items() if k != "Tags"}
    return {
        "account": ctx.account,
        "region": ctx.region,
        "name": name,
        "name_key": name.lower(),
        "arn": ctx.arn("processing-job", name),
        "status": IN_PROGRESS,
        "body": orjson.dumps(body).decode(),
        "creation_time": now,
        "last_modified_time": now,
        "monitoring_schedule_arn": monitoring_schedule_arn,
        "stop_requested": 0,
    }


class ProcessingJobService:
    def __init__(self, db: Database, clock: Clock, tags: TagService) -> None:
        self.db = db
        self.clock = clock
        self.tags = tags
        self._watchers: list[JobWatcher] = []

    # --- API -------------------------------------------------------------------------------------

    def insert(
        self,
        conn: Connection,
        ctx: RequestContext,
        params: dict[str, Any],
        monitoring_schedule_arn: str | None = None,
        *,
        claim_buckets: bool = False,
    ) -> str:
        if claim_buckets:
            check_request(params, conn, ctx)
        else:
            check_request(params)
        row = job_row(ctx, params, monitoring_schedule_arn, millis(self.clock.now()))
        try:
            with conn.begin_nested():
                conn.execute(processing_jobs.insert().values(**row))
        except IntegrityError:
            raise ResourceInUse(f"Job with name {row['name']} already exists") from None
        self.tags.put(conn, row["arn"], params.get("Tags", []))
        return str(row["arn"])

    def create(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        with self.db.write() as conn:
            return self.insert(conn, ctx, params, claim_buckets=True)

    def _find(self, conn: Connection, ctx: RequestContext, name: str) -> Row[Any]:
        row = find_named(conn, processing_jobs, ctx, name)
        if row is None:
            # What SageMaker answers (and what boto3's ProcessingJobCompletedOrStopped waiter expects).
            raise ValidationError(f"Could not find requested job with name {name}")
        return row

    def describe(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._find(conn, ctx, name)
        return describe_row(row)

    def stop(self, ctx: RequestContext, name: str) -> None:
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            # Locked, then read again: a runner finishing the job at this moment is not overwritten (PostgreSQL).
            row = conn.execute(select(processing_jobs).where(processing_jobs.c.id == row.id).with_for_update()).one()
            if row.status in TERMINAL:
                raise ValidationError(f"The job {row.name} has already ended with status {row.status}")
            if row.status == STOPPING:
                return
            self._set(conn, row, STOPPING, stop_requested=1)

    def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        t = processing_jobs
        conditions = list_filters(
            t,
            ctx,
            params,
            times={"CreationTime": t.c.creation_time, "LastModifiedTime": t.c.last_modified_time},
            equals={"StatusEquals": t.c.status},
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
            summary: dict[str, Any] = {
                "ProcessingJobName": row.name,
                "ProcessingJobArn": row.arn,
                "CreationTime": row.creation_time,
                "LastModifiedTime": row.last_modified_time,
                "ProcessingJobStatus": row.status,
            }
            for key, value in (
                ("ProcessingEndTime", row.processing_end_time),
                ("FailureReason", row.failure_reason),
                ("ExitMessage", row.exit_message),
            ):
                if value is not None:
                    summary[key] = value
            summaries.append(summary)
        return page.result("ProcessingJobSummaries", summaries)

    # --- lifecycle (runner) ----------------------------------------------------------------------

    def watch(self, watcher: JobWatcher) -> None:
        """Call `watcher` in the transaction of every status change of a job (the plan runner moves executions)."""
        self._watchers.append(watcher)

    def _set(
        self, conn: Connection, row: Row[Any], status: str, *, watch: dict[str, Any] | None = None, **values: Any
    ) -> None:
        """Write the job's new status and columns; watchers also see `watch` (what is not stored, such as the
        status of the job's result file)."""
        now = millis(self.clock.now())
        conn.execute(
            update(processing_jobs)
            .where(processing_jobs.c.id == row.id)
            .values(status=status, last_modified_time=now, **values)
        )
        for watcher in self._watchers:
            watcher(conn, row, status, {**values, **(watch or {})})

    def claim(self, owner: str, lease_seconds: float) -> Row[Any] | None:
        """Take the oldest unclaimed job; at most one runner wins it. On PostgreSQL the row is locked with
        `FOR UPDATE SKIP LOCKED`, so replicas claiming at once each get a different job instead of queueing on
        one; SQLite (no row locks; `BEGIN IMMEDIATE` serializes writers) relies on the conditional update."""
        with self.db.write() as conn:
            row = conn.execute(
                select(processing_jobs)
                .where(processing_jobs.c.status == IN_PROGRESS, processing_jobs.c.lease_owner.is_(None))
                .order_by(processing_jobs.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            return None if row is None else self._take(conn, row, owner, lease_seconds)

    def claim_named(self, ctx: RequestContext, name: str, owner: str, lease_seconds: float) -> Row[Any] | None:
        """Take one particular job (the CLI runs the execution it just created); None if a runner has it."""
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            row = conn.execute(select(processing_jobs).where(processing_jobs.c.id == row.id).with_for_update()).one()
            return self._take(conn, row, owner, lease_seconds)

    def _take(self, conn: Connection, row: Row[Any], owner: str, lease_seconds: float) -> Row[Any] | None:
        claimed = conn.execute(
            update(processing_jobs)
            .where(
                processing_jobs.c.id == row.id,
                processing_jobs.c.status == IN_PROGRESS,
                processing_jobs.c.lease_owner.is_(None),
            )
            .values(
                lease_owner=owner,
                lease_expires=self.clock.now() + lease_seconds,
                processing_start_time=millis(self.clock.now()),
            )
        ).rowcount
        if not claimed:
            return None
        self._set(conn, row, IN_PROGRESS)
        return conn.execute(select(processing_jobs).where(processing_jobs.c.id == row.id)).first()

    def heartbeat(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """Renew the lease; returns whether the job must stop: a stop was requested, or the lease is no longer
        this runner's (it expired and another process failed the job), so nothing keeps running unowned."""
        with self.db.write() as conn:
            renewed = conn.execute(
                update(processing_jobs)
                .where(processing_jobs.c.id == job_id, processing_jobs.c.lease_owner == owner)
                .values(lease_expires=self.clock.now() + lease_seconds)
            ).rowcount
            stop = conn.execute(select(processing_jobs.c.stop_requested).where(processing_jobs.c.id == job_id)).scalar()
        return bool(stop) or not renewed

    def finish(
        self,
        job_id: int,
        owner: str,
        status: str,
        *,
        exit_message: str | None = None,
        failure_reason: str | None = None,
        log_uri: str | None = None,
        result_status: str | None = None,
    ) -> None:
        with self.db.write() as conn:
            row = conn.execute(
                select(processing_jobs)
                .where(processing_jobs.c.id == job_id, processing_jobs.c.lease_owner == owner)
                .with_for_update()  # against a concurrent fail_orphans of another process (PostgreSQL)
            ).first()
            if row is None or row.status in TERMINAL:
                return  # the lease was lost (another process failed the job); its verdict stands
            self._set(
                conn,
                row,
                status,
                exit_message=exit_message[:1024] if exit_message else None,
                failure_reason=failure_reason[:1024] if failure_reason else None,
                processing_end_time=millis(self.clock.now()),
                lease_owner=None,
                lease_expires=None,
                log_uri=log_uri,
                watch={"result_status": result_status} if result_status else None,
            )

    def fail_orphans(self) -> int:
        """Jobs whose runner stopped renewing its lease (a crash or kill): Failed, with a reason."""
        now = self.clock.now()
        with self.db.write() as conn:
            rows = conn.execute(
                select(processing_jobs).where(
                    processing_jobs.c.status.in_([IN_PROGRESS, STOPPING]),
                    processing_jobs.c.lease_owner.is_not(None),
                    processing_jobs.c.lease_expires < now,
                )
                # Replicas sweep at once: each orphan is failed (and its watchers told) by exactly one of them.
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                stopped = row.status == STOPPING
                self._set(
                    conn,
                    row,
                    STOPPED if stopped else FAILED,
                    failure_reason=None
                    if stopped
                    else (
                        "InternalServerError: the Watchkeeper process running this job stopped (crash, kill or "
                        "restart) before the job finished; no output was uploaded. Start a new execution to retry."
                    ),
                    processing_end_time=millis(now),
                    lease_owner=None,
                    lease_expires=None,
                )
        return len(rows)

    def stop_unclaimed(self) -> int:
        """A job stopped before any runner took it is Stopped at once."""
        with self.db.write() as conn:
            rows = conn.execute(
                select(processing_jobs).where(
                    processing_jobs.c.status == STOPPING, processing_jobs.c.lease_owner.is_(None)
                )
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                self._set(conn, row, STOPPED, processing_end_time=millis(self.clock.now()))
        return len(rows)


def describe_row(row: Row[Any]) -> dict[str, Any]:
    body = orjson.loads(row.body)
    for item in body.get("ProcessingInputs") or []:
        item.setdefault("AppManaged", False)
        if "S3Input" in item:
            s3 = item["S3Input"]
            s3.setdefault("S3InputMode", "File")
            s3.setdefault("S3DataDistributionType", "FullyReplicated")
            s3.setdefault("S3CompressionType", "None")
    result: dict[str, Any] = {
        **body,
        "ProcessingJobArn": row.arn,
        "ProcessingJobStatus": row.status,
        "CreationTime": row.creation_time,
        "LastModifiedTime": row.last_modified_time,
    }
    optional = {
        "ExitMessage": row.exit_message,
        "FailureReason": row.failure_reason,
        "ProcessingStartTime": row.processing_start_time,
        "ProcessingEndTime": row.processing_end_time,
        "MonitoringScheduleArn": row.monitoring_schedule_arn,
    }
    result.update({k: v for k, v in optional.items() if v is not None})
    return result

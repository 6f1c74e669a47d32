"""Batch transform jobs: the API's Create/Describe/List/Stop, and the lease-based lifecycle the transform runner
(transform/runner.py) drives.

Status: InProgress (created; a runner claims it) → Completed | Failed (with FailureReason) | Stopping → Stopped,
as a processing job's. The model's server (`WATCHKEEPER_UPSTREAM_URL`) is looked up and checked at create time
and kept with the job, as an endpoint keeps its deployment, so deleting the model does not break a running job.
A runner that stops renewing its lease (crash, kill, restart) leaves a job that is failed with a reason, never
one stuck InProgress.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.config import Settings
from watchkeeper.errors import ResourceInUse, ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.endpoints import UPSTREAM_ENV, upstream_of
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.locations import check_locations
from watchkeeper.services.lookup import find_named
from watchkeeper.services.tags import TagService
from watchkeeper.services.upstream import UpstreamError, check_upstream, parse_allow_list
from watchkeeper.store import Database
from watchkeeper.store.tables import models, transform_jobs
from watchkeeper.transform.plan import PlanError, plan_of

IN_PROGRESS, COMPLETED, FAILED, STOPPING, STOPPED = "InProgress", "Completed", "Failed", "Stopping", "Stopped"
TERMINAL = (COMPLETED, FAILED, STOPPED)
LOST_LEASE = (
    "InternalServerError: the Watchkeeper process running this transform job stopped (crash, kill or restart) "
    "before the job finished; .out objects of the inputs it finished may exist. Create a new job to retry."
)


class TransformJobService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, tags: TagService) -> None:
        self.db = db
        self.clock = clock
        self.tags = tags
        self.allow = parse_allow_list(settings.upstream_allow)

    # --- API -------------------------------------------------------------------------------------

    def _model_url(self, conn: Connection, ctx: RequestContext, name: str) -> str:
        row = find_named(conn, models, ctx, name)
        if row is None:
            raise ValidationError(f'Could not find model "{ctx.arn("model", name)}".')
        url = upstream_of(orjson.loads(row.body))
        if not url:
            raise ValidationError(f"Model {name} names no model server ({UPSTREAM_ENV} in its container's "
                                  "Environment), so Watchkeeper cannot run it over the transform's input.")
        try:
            check_upstream(url, self.allow)
        except UpstreamError as exc:
            raise ValidationError(f"Model {name}: {exc}") from None
        return url

    def create(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        try:
            plan_of(params)
        except PlanError as exc:
            raise ValidationError(str(exc)) from None
        name = params["TransformJobName"]
        arn = ctx.arn("transform-job", name)
        body = {k: v for k, v in params.items() if k != "Tags"}
        with self.db.write() as conn:
            check_locations("CreateTransformJob", params, conn, ctx)
            url = self._model_url(conn, ctx, params["ModelName"])
            now = millis(self.clock.now())
            try:
                with conn.begin_nested():
                    conn.execute(transform_jobs.insert().values(
                        account=ctx.account, region=ctx.region, name=name, name_key=name.lower(), arn=arn,
                        status=IN_PROGRESS, body=orjson.dumps(body).decode(), model_url=url, creation_time=now,
                        last_modified_time=now, stop_requested=0,
                    ))
            except IntegrityError:
                raise ResourceInUse(f"Job with name {name} already exists") from None
            self.tags.put(conn, arn, params.get("Tags", []))
        return arn

    def _find(self, conn: Connection, ctx: RequestContext, name: str) -> Row[Any]:
        row = find_named(conn, transform_jobs, ctx, name)
        if row is None:
            raise ValidationError(f"Could not find requested job with name {name}")
        return row

    def describe(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._find(conn, ctx, name)
        return describe_row(row)

    def stop(self, ctx: RequestContext, name: str) -> None:
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            if row.status in TERMINAL:
                raise ValidationError(f"The job {row.name} has already ended with status {row.status}")
            if row.status == IN_PROGRESS:
                self._set(conn, row.id, STOPPING, transform_jobs.c.status == IN_PROGRESS, stop_requested=1)

    def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        t = transform_jobs
        conditions = list_filters(t, ctx, params, times={"CreationTime": t.c.creation_time,
                                                         "LastModifiedTime": t.c.last_modified_time},
                                  equals={"StatusEquals": t.c.status})
        with self.db.read() as conn:
            page = paginate(conn, select(t).where(*conditions), params,
                            {"Name": t.c.name, "CreationTime": t.c.creation_time, "Status": t.c.status}, t.c.id)
        summaries = []
        for row in page.rows:
            summary: dict[str, Any] = {
                "TransformJobName": row.name, "TransformJobArn": row.arn, "CreationTime": row.creation_time,
                "LastModifiedTime": row.last_modified_time, "TransformJobStatus": row.status,
            }
            if row.transform_end_time is not None:
                summary["TransformEndTime"] = row.transform_end_time
            if row.failure_reason:
                summary["FailureReason"] = row.failure_reason
            summaries.append(summary)
        return page.result("TransformJobSummaries", summaries)

    # --- lifecycle (runner) ----------------------------------------------------------------------

    def _set(self, conn: Connection, job_id: int, status: str, *conditions: Any, **values: Any) -> int:
        """Set a job's status when `conditions` still hold (what the caller read may have changed in another
        process since: PostgreSQL does not serialise writers as SQLite does); the rows changed."""
        return conn.execute(update(transform_jobs).where(transform_jobs.c.id == job_id, *conditions)
                            .values(status=status, last_modified_time=millis(self.clock.now()), **values)).rowcount

    def claim(self, owner: str, lease_seconds: float) -> Row[Any] | None:
        """Take the oldest unclaimed job; at most one runner wins it (a conditional update)."""
        t = transform_jobs
        with self.db.write() as conn:
            row = conn.execute(select(t).where(t.c.status == IN_PROGRESS, t.c.lease_owner.is_(None))
                               .order_by(t.c.id).limit(1)).first()
            if row is None:
                return None
            claimed = conn.execute(
                update(t).where(t.c.id == row.id, t.c.lease_owner.is_(None), t.c.status == IN_PROGRESS)
                .values(lease_owner=owner, lease_expires=self.clock.now() + lease_seconds,
                        transform_start_time=millis(self.clock.now()),
                        last_modified_time=millis(self.clock.now()))
            ).rowcount
            if not claimed:
                return None
            return conn.execute(select(t).where(t.c.id == row.id)).first()

    def heartbeat(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """Renew the lease; True when the job should stop (StopTransformJob, or the lease was lost)."""
        t = transform_jobs
        with self.db.write() as conn:
            conn.execute(update(t).where(t.c.id == job_id, t.c.lease_owner == owner)
                         .values(lease_expires=self.clock.now() + lease_seconds))
            row = conn.execute(select(t.c.stop_requested, t.c.lease_owner).where(t.c.id == job_id)).first()
        return row is None or bool(row.stop_requested) or row.lease_owner != owner

    def finish(self, job_id: int, owner: str, status: str, failure_reason: str | None = None) -> None:
        t = transform_jobs
        with self.db.write() as conn:
            row = conn.execute(select(t).where(t.c.id == job_id, t.c.lease_owner == owner)).first()
            if row is None or row.status in TERMINAL:
                return  # the lease was lost (another process failed the job); its verdict stands
            if row.status == STOPPING and status != FAILED:
                status = STOPPED
            # Only while this runner still holds the job: a concurrent fail_orphans' verdict stands.
            self._set(conn, job_id, status, t.c.lease_owner == owner, t.c.status.in_([IN_PROGRESS, STOPPING]),
                      failure_reason=failure_reason[:1024] if failure_reason else None,
                      transform_end_time=millis(self.clock.now()), lease_owner=None, lease_expires=None)

    def fail_orphans(self) -> int:
        """Jobs whose runner stopped renewing its lease: Failed with a reason (Stopped when a stop was asked)."""
        t = transform_jobs
        now = self.clock.now()
        with self.db.write() as conn:
            rows = conn.execute(select(t).where(t.c.status.in_([IN_PROGRESS, STOPPING]),
                                                t.c.lease_owner.is_not(None), t.c.lease_expires < now)).all()
            changed = 0
            for row in rows:
                stopped = row.status == STOPPING
                # Only if the lease is still the expired one read: not renewed or finished meanwhile.
                changed += self._set(conn, row.id, STOPPED if stopped else FAILED, t.c.lease_owner == row.lease_owner,
                                     t.c.lease_expires < now, t.c.status == row.status,
                                     failure_reason=None if stopped else LOST_LEASE, transform_end_time=millis(now),
                                     lease_owner=None, lease_expires=None)
        return changed

    def stop_unclaimed(self) -> int:
        """A job stopped before any runner took it is Stopped at once."""
        t = transform_jobs
        with self.db.write() as conn:
            rows = conn.execute(select(t).where(t.c.status == STOPPING, t.c.lease_owner.is_(None))).all()
            return sum(self._set(conn, row.id, STOPPED, t.c.status == STOPPING, t.c.lease_owner.is_(None),
                                 transform_end_time=millis(self.clock.now())) for row in rows)


def describe_row(row: Row[Any]) -> dict[str, Any]:
    body = orjson.loads(row.body)
    transform_input = body.get("TransformInput") or {}
    transform_input.setdefault("CompressionType", "None")
    transform_input.setdefault("SplitType", "None")
    result: dict[str, Any] = {
        **body,
        "TransformJobArn": row.arn,
        "TransformJobStatus": row.status,
        "CreationTime": row.creation_time,
    }
    optional = {
        "FailureReason": row.failure_reason,
        "TransformStartTime": row.transform_start_time,
        "TransformEndTime": row.transform_end_time,
    }
    result.update({k: v for k, v in optional.items() if v is not None})
    return result

"""Shared by `watchkeeper run` and `watchkeeper backfill`: start an execution of a schedule and run it here.

They work on the same store as the server (same --data-dir / WATCHKEEPER_DATABASE_URL). The plan runner moves
the execution from job to job (services/plans.py); each job is run here unless a running server's runner takes
it first, and then we wait for its verdict instead. Either way the answer is the execution's final status.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: `watchkeeper --help` stays fast
    from sqlalchemy import Row

    from watchkeeper.jobs.executors import Executor
    from watchkeeper.scheduling.fire_times import Window
    from watchkeeper.services.container import Services
    from watchkeeper.services.context import RequestContext


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schedule", help="monitoring schedule name")
    parser.add_argument("--data-dir", type=Path, help="data folder (WATCHKEEPER_DATA_DIR, default ./.watchkeeper)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (WATCHKEEPER_DATABASE_URL)")
    parser.add_argument("--region", help="region of the schedule (default WATCHKEEPER_REGION or us-east-1)")


def parse_time(value: str) -> float:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def open_services(args: argparse.Namespace) -> tuple[Services, RequestContext]:
    from watchkeeper.config import Settings
    from watchkeeper.services.container import Services
    from watchkeeper.services.context import RequestContext

    overrides = {"data_dir": args.data_dir, "database_url": args.database_url}
    settings = dataclasses.replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})
    services = Services.build(settings)
    return services, RequestContext(settings.account_id, args.region or settings.default_region)


def run_execution(
    services: Services,
    ctx: RequestContext,
    schedule_name: str,
    scheduled_time: float,
    window: Window | None,
    executor: Executor | None = None,
) -> tuple[str, str]:
    """(status, detail) of one execution of `schedule_name` at `scheduled_time`, once its whole plan has run:
    each job is run here unless a server's runner took it first (then its verdict is awaited)."""
    from sqlalchemy import select

    from watchkeeper.jobs.runner import JobRunner
    from watchkeeper.services.plans import EXECUTION_TERMINAL
    from watchkeeper.store.tables import monitoring_executions

    schedule = services.schedules.find_row(ctx, schedule_name)
    started = services.starter.start(schedule, scheduled_time, window)
    if started is None:
        return "Skipped", "an execution for this time already exists (see ListMonitoringExecutions)"
    runner: JobRunner | None = None
    lease = services.settings.job_lease_seconds
    while True:
        with services.db.read() as conn:
            execution = conn.execute(
                select(monitoring_executions).where(monitoring_executions.c.id == started.execution_id)
            ).one()
        if execution.status in EXECUTION_TERMINAL:
            break
        runner = runner or JobRunner(
            services.processing_jobs,
            services.store,
            services.settings.jobs_dir,
            lease_seconds=lease,
            settings=services.settings,
            executor=executor,
            resolve_model=services.model_server,
        )
        row = services.processing_jobs.claim_named(ctx, execution.processing_job_name, runner.owner, lease)
        if row is not None:
            runner.run_claimed(row)
        else:  # a server's runner has it: wait, failing it if that runner died (as the server would)
            services.processing_jobs.fail_orphans()
            services.processing_jobs.stop_unclaimed()
            time.sleep(0.5)
    return execution.status, _detail(services, ctx, execution)


def _detail(services: Services, ctx: RequestContext, execution: Row[Any]) -> str:
    if execution.status not in ("Completed", "CompletedWithViolations"):
        return execution.failure_reason or ""
    job = services.processing_jobs.describe(ctx, execution.processing_job_name)
    report = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    return f"{job.get('ExitMessage', '')} Reports: {report}"

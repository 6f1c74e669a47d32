"""Shared by `watchkeeper run` and `watchkeeper backfill`: start an execution of a schedule and run it here.

They work on the same store as the server (same --data-dir / WATCHKEEPER_DATABASE_URL). If a running server's
runner takes the job first, we wait for its verdict instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

from watchkeeper.config import Settings
from watchkeeper.jobs.runner import JobRunner
from watchkeeper.scheduling.fire_times import Window
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.services.processing_jobs import TERMINAL


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schedule", help="monitoring schedule name")
    parser.add_argument("--data-dir", type=Path, help="data folder (WATCHKEEPER_DATA_DIR, default ./.watchkeeper)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (WATCHKEEPER_DATABASE_URL)")
    parser.add_argument("--region", help="region of the schedule (default WATCHKEEPER_REGION or us-east-1)")


def parse_time(value: str) -> float:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def open_services(args: argparse.Namespace) -> tuple[Services, RequestContext]:
    overrides = {"data_dir": args.data_dir, "database_url": args.database_url}
    settings = dataclasses.replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})
    services = Services.build(settings)
    return services, RequestContext(settings.account_id, args.region or settings.default_region)


def run_execution(
    services: Services, ctx: RequestContext, schedule_name: str, scheduled_time: float, window: Window | None
) -> tuple[str, str]:
    """(status, detail) of one execution of `schedule_name` at `scheduled_time`."""
    schedule = services.schedules.find_row(ctx, schedule_name)
    job_name = services.starter.start(schedule, scheduled_time, window)
    if job_name is None:
        return (
            "Skipped",
            "an execution for this time already exists (or the schedule could not run; see ListMonitoringExecutions)",
        )
    runner = JobRunner(
        services.processing_jobs,
        services.store,
        services.settings.jobs_dir,
        lease_seconds=services.settings.job_lease_seconds,
        settings=services.settings,
    )
    row = services.processing_jobs.claim_named(ctx, job_name, runner.owner, services.settings.job_lease_seconds)
    if row is not None:
        runner.run_claimed(row)
    while True:
        job = services.processing_jobs.describe(ctx, job_name)
        if job["ProcessingJobStatus"] in TERMINAL:
            break
        time.sleep(0.5)
    status = job["ProcessingJobStatus"]
    if status == "Completed":
        report = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        return (job.get("ExitMessage") or "Completed").split(":")[0], f"{job.get('ExitMessage', '')} Reports: {report}"
    return status, job.get("FailureReason", "")

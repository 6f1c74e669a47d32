"""Scheduler throughput: N hourly schedules on one store; seconds from the fire time until every execution
has started (its execution row and processing job exist, queued for the runner), with CPU time and peak memory.

Runs the real scheduler tick on a SQLite store with a fake clock, as the server's loop does.

    .venv/bin/python bench/scheduler.py [--schedules 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select
from tests.api.conftest import hourly_config
from tests.in_process import CTX, create_capturing_endpoint

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.scheduling.scheduler import Scheduler
from watchkeeper.services.container import Services
from watchkeeper.store.tables import monitoring_executions, processing_jobs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        clock = FakeClock(1_767_225_600.0 + 1800)  # 2026-01-01T00:30Z
        settings = dataclasses.replace(
            Settings(), data_dir=Path(data_dir), schedule_activation_seconds=0, max_monitoring_schedules=10**9
        )
        services = Services.build(settings, clock)
        create_capturing_endpoint(services)
        started = time.perf_counter()
        for i in range(args.schedules):
            services.schedules.create(CTX, f"schedule-{i}", hourly_config(), [])
        created_in = time.perf_counter() - started
        scheduler = Scheduler(services, ping=lambda _: True)
        scheduler.tick()  # activation: first fire time 01:00

        clock.set(1_767_225_600.0 + 3600)  # 01:00, the fire time
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        fired = time.perf_counter()
        while True:
            scheduler.tick()
            with services.db.read() as conn:
                executions = conn.execute(select(func.count()).select_from(monitoring_executions)).scalar_one()
                jobs = conn.execute(select(func.count()).select_from(processing_jobs)).scalar_one()
            if executions >= args.schedules and jobs >= args.schedules:
                break
        elapsed = time.perf_counter() - fired
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        print(
            f"{args.schedules} hourly schedules (created in {created_in:.1f} s): all executions started "
            f"{elapsed:.1f} s after the fire time ({args.schedules / elapsed:.0f}/s); "
            f"scheduler CPU {cpu:.1f} s; peak RSS {cpu_after.ru_maxrss / 1024:.0f} MiB",
            flush=True,
        )
        services.close()


if __name__ == "__main__":
    main()

"""A fleet on one PostgreSQL: N NOW schedules created through the API replicas, fired by the scheduler replicas,
run by the worker replicas; optionally one process of each role killed (-9) on the way. Prints how long each
phase took, how the work split between replicas, and checks that every execution ran exactly once (the jobs
report to a witness over TCP, as in tests/replicas/).

    .venv/bin/python bench/replicas.py --schedules 200 --kill          # the issue's test, at full size
    .venv/bin/python bench/replicas.py --schedules 10000 --direct      # 2 schedulers, 10,000 schedules due at once

--direct: the schedules are created beforehand through the services (no HTTP; the API is not what is measured),
Pending until the fleet of schedulers is up; then they are all released at one instant, and the clock runs until
every execution has started (activation, then firing: each execution row and its queued job written).

Needs Debian's postgresql (or WATCHKEEPER_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from sqlalchemy import func, select, update
from tests.in_process import create_capturing_endpoint
from tests.postgres_server import PostgresCluster
from tests.replicas.fleet import (
    Fleet,
    Witness,
    capture_endpoint,
    create_schedules,
    env_for,
    fresh_database,
    kill,
    schedule_config,
    wait_until,
)

from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import monitoring_executions, monitoring_schedules

STARTED = re.compile(r"monitoring execution started: schedule=(\S+)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrent-jobs", type=int, default=4, help="WATCHKEEPER_MAX_CONCURRENT_JOBS per worker")
    parser.add_argument("--work-seconds", type=float, default=0.2, help="what each job sleeps")
    parser.add_argument("--kill", action="store_true", help="kill -9 one process of each role on the way")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--direct", action="store_true", help="schedulers only; schedules created beforehand")
    args = parser.parse_args()

    cluster = None
    server_url = os.environ.get("WATCHKEEPER_TEST_POSTGRES_URL")
    if not server_url:
        cluster = PostgresCluster()
        server_url = cluster.start()
    witness = Witness()
    with tempfile.TemporaryDirectory() as root:
        counts = {"api": args.apis, "scheduler": args.schedulers, "worker": args.workers}
        if args.direct:
            counts = {"scheduler": args.schedulers}
        env = env_for(args.schedules, concurrent_jobs=args.concurrent_jobs)
        database_url = fresh_database(server_url)
        fleet = Fleet(Path(root) / "data", database_url, counts, env)
        try:
            if args.direct:
                create_directly(Path(root) / "data", database_url, args.schedules, witness.port)
            began = time.perf_counter()
            fleet.start()
            print(f"fleet {counts} up in {time.perf_counter() - began:.1f} s", flush=True)
            if args.direct:
                release(fleet, args, cluster)
            else:
                run(fleet, witness, args)
        finally:
            fleet.stop()
            witness.close()
            if cluster is not None:
                cluster.stop()


def run(fleet: Fleet, witness: Witness, args: argparse.Namespace) -> None:
    n = args.schedules
    clients = fleet.clients()
    capture_endpoint(clients[0], "churn")
    names = [f"fleet-{i:05d}" for i in range(n)]

    def config(name: str) -> dict[str, object]:
        return schedule_config(name, "churn", witness.port, args.work_seconds)

    # One client thread per API replica, each starting with its own replica (failing over to the others).
    shares = [names[i :: len(clients)] for i in range(len(clients))]
    order = [clients[i:] + clients[:i] for i in range(len(clients))]
    began = time.perf_counter()
    threads = [
        threading.Thread(target=create_schedules, args=(order[i], shares[i], config, set()))
        for i in range(len(clients))
    ]
    for thread in threads:
        thread.start()
    held: list[str] = []
    if args.kill:
        time.sleep(1.0)
        kill(fleet.of("api")[0])
        # The scheduler once it has work in hand: a quarter of the executions started.
        wait_until(lambda: len(fleet.executions()) >= len(names) // 4, timeout=600, interval=0.1)
        kill(fleet.of("scheduler")[0])
        if fleet.of("worker"):
            wait_until(lambda: bool(fleet.jobs_leased_by(fleet.of("worker")[0])), timeout=60, interval=0.05)
            held = fleet.jobs_leased_by(fleet.of("worker")[0])
            kill(fleet.of("worker")[0])
    for thread in threads:
        thread.join()
    created = time.perf_counter()
    print(f"{n} schedules created in {created - began:.1f} s ({n / (created - began):.0f}/s)", flush=True)

    def started() -> bool:
        return len(fleet.executions()) >= n

    wait_until(started, timeout=args.timeout, interval=0.5)
    all_started = time.perf_counter()
    print(f"all {n} executions started {all_started - created:.1f} s after the last create", flush=True)
    if args.workers:

        def settled() -> bool:
            return all(r.status in ("Completed", "Failed") for r in fleet.executions())

        wait_until(settled, timeout=args.timeout, interval=0.5)
        ended = time.perf_counter()
        print(
            f"all ended {ended - created:.1f} s after the last create "
            f"({n / (ended - began):.1f} executions/s from the first create)",
            flush=True,
        )
    report(fleet, witness, names, held, args)


def create_directly(data_dir: Path, database_url: str, n: int, witness_port: int) -> None:
    settings = dataclasses.replace(
        Settings(),
        data_dir=data_dir,
        database_url=database_url,
        schedule_activation_seconds=10**7,  # Pending until released
        max_monitoring_schedules=n + 10,
    )
    services = Services.build(settings)
    try:
        ctx = RequestContext(settings.account_id, settings.default_region)
        create_capturing_endpoint(services, "churn", model="churn", config="churn", destination="s3://fleet/capture",
                                  ctx=ctx)
        began = time.perf_counter()
        for i in range(n):
            name = f"fleet-{i:05d}"
            services.schedules.create(ctx, name, schedule_config(name, "churn", witness_port, 0), [])
        print(f"{n} schedules created through the services in {time.perf_counter() - began:.1f} s", flush=True)
    finally:
        services.close()


def release(fleet: Fleet, args: argparse.Namespace, cluster: PostgresCluster | None) -> None:
    """Every Pending schedule due now, at one instant; then wait for all executions to be started (polled with
    a count: reading the rows would load the 2 cores the fleet runs on)."""
    n = args.schedules
    cpu_before = {m.pid: _cpu(m.pid) for m in fleet.members}
    database = _database_processes(cluster)
    database_before = _alive_cpu(database)
    began = time.perf_counter()
    with fleet.engine.begin() as conn:
        conn.execute(update(monitoring_schedules).values(pending_until=time.time()))
    first: list[float] = []

    def all_started() -> bool:
        with fleet.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(monitoring_executions)).scalar_one()
        if count and not first:
            first.append(time.perf_counter() - began)
        return count >= n

    wait_until(all_started, timeout=args.timeout, interval=0.2)
    elapsed = time.perf_counter() - began
    cpu = {pid: _cpu(pid) - before for pid, before in cpu_before.items()}
    print(
        f"all {n} executions started {elapsed:.1f} s after release ({n / elapsed:.0f}/s); "
        f"the first seen after {first[0]:.1f} s",
        flush=True,
    )
    print(f"scheduler CPU seconds: {', '.join(f'{c:.1f}' for c in cpu.values())}")
    if database:
        used = _alive_cpu(database) - database_before
        print(f"PostgreSQL CPU seconds (the server and its backends of the release): {used:.1f}")
    report(fleet, None, [f"fleet-{i:05d}" for i in range(n)], [], args)


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _database_processes(cluster: PostgresCluster | None) -> list[psutil.Process]:
    """The throwaway cluster's postmaster and its children (the schedulers' pooled connections among them)."""
    if cluster is None:
        return []
    postmaster = psutil.Process(int((cluster.root / "data" / "postmaster.pid").read_text().split()[0]))
    return [postmaster, *postmaster.children(recursive=True)]


def _alive_cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            total += _cpu(process.pid)
        except psutil.NoSuchProcess:
            continue
    return total


def report(fleet: Fleet, witness: Witness | None, names: list[str], held: list[str], args: argparse.Namespace) -> None:
    rows = fleet.executions()
    per_schedule = Counter(r.schedule_name for r in rows)
    statuses = Counter(r.status for r in rows)
    duplicates = sum(1 for count in per_schedule.values() if count > 1)
    missing = len(set(names) - set(per_schedule))
    print(f"executions: {len(rows)} for {len(per_schedule)} schedules; duplicates {duplicates}; missing {missing}")
    print(f"statuses: {dict(statuses)}")
    for member in fleet.of("scheduler"):
        fired = len(STARTED.findall(member.process.log_path.read_text(errors="replace")))
        print(f"  scheduler pid {member.pid}: started {fired} executions")
    if witness is not None and args.workers:
        starts, ends = witness.count("start"), witness.count("end")
        twice = [name for name, count in starts.items() if count > 1]
        completed = {r.schedule_name for r in rows if r.status == "Completed"}
        unwitnessed = [name for name in completed if (starts[name], ends[name]) != (1, 1)]
        print(
            f"witness: {sum(starts.values())} starts, {sum(ends.values())} ends; started twice {len(twice)}; "
            f"completed without exactly one start and end {len(unwitnessed)}; jobs held by the killed worker "
            f"{len(held)}, failed {statuses.get('Failed', 0)}"
        )


if __name__ == "__main__":
    main()

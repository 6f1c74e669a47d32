"""Dashboard pages and GET /metrics with 1,000 schedules x 720 executions in the store.

Builds the store once (rows inserted directly with sqlite3, seconds, not through the API), with per schedule
720 hourly executions and their processing jobs, and three drift series of 720 points each; every execution's
job points at one real report folder (statistics.json of the churn training set, with KLL sketches of 33
features, and a constraint_violations.json). Then starts `watchkeeper serve` on that store (no keys: loopback,
one account) and requests each page and /metrics N times, reporting the server's own time (the Server-Timing
header of /ui pages) and the client's, p50 and max.

    .venv/bin/python bench/dashboard.py [--schedules 1000] [--executions 720] [--repeat 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.aws_fixtures import aws_fixture
from tests.server_process import ServerProcess

ACCOUNT, REGION = "123456789012", "us-east-1"
NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
START = 1_760_000_400.0  # executions are hourly from here
REPORT = "s3://bench/reports/shared"
BASELINE = "s3://bench/baseline/statistics.json"
_TIMING = re.compile(r"dur=([0-9.]+)")


def build(data_dir: Path, schedules: int, executions: int) -> None:
    """Migrate through the server's own code, then insert rows in bulk."""
    from watchkeeper.config import Settings
    from watchkeeper.services.container import Services

    Services.build(Settings(data_dir=data_dir)).close()
    _write_reports(data_dir)
    db = sqlite3.connect(data_dir / "watchkeeper.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    config = orjson.dumps({"ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}}).decode()
    body = orjson.dumps({
        "ProcessingInputs": [{"InputName": "baseline", "S3Input": {"S3Uri": BASELINE}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "S3Output": {"S3Uri": REPORT}}]},
    }).decode()
    now = START + executions * 3600
    db.executemany(
        "INSERT INTO monitoring_schedules (account, region, name, name_key, arn, status, creation_time, "
        "last_modified_time, config, endpoint_name, monitoring_type, next_fire_time) "
        "VALUES (?, ?, ?, ?, ?, 'Scheduled', ?, ?, ?, ?, 'DataQuality', ?)",
        [(ACCOUNT, REGION, f"schedule-{s:04d}", f"schedule-{s:04d}",
          f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/schedule-{s:04d}", START, START, config,
          f"endpoint-{s:04d}", 4_102_444_800.0) for s in range(schedules)],
    )
    for s in range(schedules):
        name = f"schedule-{s:04d}"
        jobs, rows = [], []
        for e in range(executions):
            t = START + e * 3600
            job = f"model-monitoring-{s:04d}-{e:04d}"
            arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{job}"
            status = "CompletedWithViolations" if e % 10 == 0 else "Completed"
            jobs.append((ACCOUNT, REGION, job, job, arn, "Completed", body, t, t + 60, t + 5, t + 50,
                         f"{status}: Job completed successfully."))
            rows.append((ACCOUNT, REGION, name, name, t, t, t + 60, status, arn, f"endpoint-{s:04d}", "DataQuality",
                         job, t - 3600, t))
        db.executemany(
            "INSERT INTO processing_jobs (account, region, name, name_key, arn, status, body, creation_time, "
            "last_modified_time, processing_start_time, processing_end_time, exit_message, stop_requested) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", jobs)
        db.executemany(
            "INSERT INTO monitoring_executions (account, region, schedule_name, schedule_key, scheduled_time, "
            "creation_time, last_modified_time, status, processing_job_arn, endpoint_name, monitoring_type, "
            "processing_job_name, window_start, window_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for feature in ("num_a", "num_b", "color"):
            dims = orjson.dumps([["Endpoint", f"endpoint-{s:04d}"], ["MonitoringSchedule", name]]).decode()
            key = hashlib.sha256(f"{ACCOUNT}{REGION}{NAMESPACE}{feature}{dims}".encode()).hexdigest()
            series = db.execute(
                "INSERT INTO metric_series (account, region, namespace, metric_name, dimensions, series_key, "
                "last_received) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ACCOUNT, REGION, NAMESPACE, f"feature_baseline_drift_{feature}", dims, key, now),
            ).lastrowid
            db.executemany(
                "INSERT INTO metric_points (series_id, timestamp, sample_count, sum, minimum, maximum, unit, "
                "source, received) VALUES (?, ?, 1, ?, ?, ?, 'None', NULL, ?)",
                [(series, START + e * 3600, v, v, v, now) for e in range(executions)
                 for v in (((s * 7 + e) % 100) / 100,)],
            )
        if s % 100 == 99:
            db.commit()
            print(f"  {s + 1} schedules", flush=True)
    db.commit()  # no ANALYZE: a server's database has no statistics unless its operator runs it
    db.close()


def _write_reports(data_dir: Path) -> None:
    """A real statistics.json (the churn training set's, by `watchkeeper baseline`) as baseline and report."""
    baseline = data_dir / "s3/bench/baseline"
    subprocess.run(
        [sys.executable, "-m", "watchkeeper", "baseline", "--dataset",
         str(aws_fixture("churn-data-quality") / "training-dataset-with-header.csv"), "--format", "csv", "--header",
         "--output", str(baseline), "--no-progress"],
        check=True, capture_output=True,
    )
    report = data_dir / "s3/bench/reports/shared"
    report.mkdir(parents=True)
    shutil.copy(baseline / "statistics.json", report / "statistics.json")
    (report / "constraint_violations.json").write_bytes(orjson.dumps({"violations": [
        {"feature_name": "Day Mins", "constraint_check_type": "baseline_drift_check",
         "description": "Numerical distance: 0.2 exceeds numerical threshold: 0.1"}]}))


def measure(port: int, path: str, repeat: int) -> tuple[list[float], list[float]]:
    """(server ms from Server-Timing, client ms) of `repeat` GETs after one warm-up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    server, client = [], []
    for i in range(repeat + 1):
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status == 200, (path, response.status)
        if i == 0:
            continue
        client.append(elapsed)
        timing = _TIMING.search(response.getheader("server-timing") or "")
        if timing:
            server.append(float(timing.group(1)))
    conn.close()
    return server, client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--executions", type=int, default=720)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the store here (reused when it exists)")
    args = parser.parse_args()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="wk-dashboard-bench-"))
    if not (data_dir / "watchkeeper.db").exists():
        started = time.perf_counter()
        build(data_dir, args.schedules, args.executions)
        print(f"store built in {time.perf_counter() - started:.0f} s", flush=True)
    server = ServerProcess(data_dir).start(timeout=120)
    try:
        middle = f"schedule-{args.schedules // 2:04d}"
        paths = {
            "/ui/ (first 100 schedules)": "/ui/",
            "/ui/?token= (last page)": "/ui/?token=" + _token((args.schedules - 1) // 100 * 100),
            "/ui/schedules/<name>": f"/ui/schedules/{middle}",
            "/ui/executions/<job> (33 features)": f"/ui/executions/model-monitoring-{args.schedules // 2:04d}-0000",
            "GET /metrics": "/metrics",
        }
        print(f"\n{args.schedules} schedules x {args.executions} executions, {args.repeat} requests each\n")
        print("| request | server p50 | server max | client p50 | client max |")
        print("|---|---|---|---|---|")
        for label, path in paths.items():
            server_ms, client_ms = measure(server.port, path, args.repeat)
            s50 = f"{statistics.median(server_ms):.1f} ms" if server_ms else "-"
            smax = f"{max(server_ms):.1f} ms" if server_ms else "-"
            print(f"| {label} | {s50} | {smax} | {statistics.median(client_ms):.1f} ms | {max(client_ms):.1f} ms |",
                  flush=True)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _token(offset: int) -> str:
    from watchkeeper.services.listing import encode_token

    return encode_token(offset)


if __name__ == "__main__":
    main()

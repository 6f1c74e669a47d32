"""Control-plane throughput: DescribeMonitoringSchedule and CreateMonitoringSchedule on one server process.

Starts `watchkeeper serve` on loopback, then drives it from several client processes over keep-alive HTTP
with the exact bodies boto3 sends. Reports requests/s, client-side p50/p99 latency and the server's own
handling time (its Server-Timing header). Bounded in time and requests; loopback only.

    .venv/bin/python bench/api.py [--clients 3] [--seconds 10] [--auth]

With --auth the server has an auth file and every request is signed (botocore's SigV4, in the client) and
verified by the server's edge middleware.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.conftest import hourly_config
from tests.server_process import ServerProcess
from tests.signing import signed_headers

_TIMING = re.compile(r"dur=([0-9.]+)")
HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


KEYS = ("AKIABENCH000000001", "bench-secret-key")


def _client(port: int, operation: str, seconds: float, max_requests: int, queue: mp.Queue, auth: bool) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {**HEADERS, "X-Amz-Target": f"SageMaker.{operation}"}
    if auth:
        del headers["Authorization"]
    latencies: list[float] = []
    server_ms: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    prefix = uuid.uuid4().hex[:8]
    while time.perf_counter() < deadline and len(latencies) < max_requests:
        if operation == "CreateMonitoringSchedule":
            body = {
                "MonitoringScheduleName": f"b-{prefix}-{len(latencies)}",
                "MonitoringScheduleConfig": hourly_config(),
            }
        else:
            body = {"MonitoringScheduleName": "bench-schedule"}
        started = time.perf_counter()
        payload = json.dumps(body).encode()
        sent = signed_headers("POST", f"http://127.0.0.1:{port}/", payload, headers, KEYS) if auth else headers
        conn.request("POST", "/", body=payload, headers=sent)
        response = conn.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            errors += 1
        timing = _TIMING.search(response.getheader("Server-Timing") or "")
        if timing:
            server_ms.append(float(timing.group(1)))
    queue.put((latencies, server_ms, errors))


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def run(operation: str, port: int, clients: int, seconds: float, max_requests: int, auth: bool) -> dict[str, float]:
    queue: mp.Queue = mp.Queue()
    processes = [
        mp.Process(target=_client, args=(port, operation, seconds, max_requests, queue, auth))
        for _ in range(clients)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    latencies = [x for r in results for x in r[0]]
    server_ms = [x for r in results for x in r[1]]
    return {
        "requests": len(latencies),
        "errors": sum(r[2] for r in results),
        "req_per_s": len(latencies) / elapsed,
        "client_p50_ms": _percentile(latencies, 50),
        "client_p99_ms": _percentile(latencies, 99),
        "server_p50_ms": _percentile(server_ms, 50),
        "server_p99_ms": _percentile(server_ms, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--max-requests", type=int, default=200_000, help="per client")
    parser.add_argument("--auth", action="store_true", help="keys on the server, every request signed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        keys = {"bench": (*KEYS, "123456789012")} if args.auth else None
        server = ServerProcess(
            Path(data_dir), env={"WATCHKEEPER_MAX_MONITORING_SCHEDULES": "10000000"}, keys=keys
        ).start()
        try:
            sm = server.client()
            sm.create_monitoring_schedule(
                MonitoringScheduleName="bench-schedule", MonitoringScheduleConfig=hourly_config()
            )
            for operation in ("DescribeMonitoringSchedule", "CreateMonitoringSchedule"):
                result = run(operation, server.port, args.clients, args.seconds, args.max_requests, args.auth)
                print(
                    f"{operation:28s} {result['requests']:7d} req ({result['errors']} errors) "
                    f"{result['req_per_s']:8.0f} req/s  client p50 {result['client_p50_ms']:.2f} ms "
                    f"p99 {result['client_p99_ms']:.2f} ms  server p50 {result['server_p50_ms']:.2f} ms "
                    f"p99 {result['server_p99_ms']:.2f} ms",
                    flush=True,
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()

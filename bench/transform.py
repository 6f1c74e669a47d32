"""Batch transform throughput: records/s of one job over a CSV object, by batch strategy and concurrency.

In-process services on a temporary data folder, the test model server (tests/model_server.py) in a child
process, each job run to its end by the transform runner's `run_claimed` (what the server's loop does).

    .venv/bin/python bench/transform.py --rows 200000 --single-rows 2000
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.transform.runner import TransformRunner

CTX = RequestContext("123456789012", "us-east-1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csv_bytes(rows: int) -> bytes:
    rng = np.random.default_rng(1)
    data = np.column_stack([rng.integers(0, 200, rows), rng.integers(0, 3, rows), rng.normal(150, 40, rows).round(1),
                            rng.integers(0, 5, rows)])
    return "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in data).encode()


def run_job(services: Services, runner: TransformRunner, name: str, source: str, **extra: object) -> float:
    request = {"TransformJobName": name, "ModelName": "m",
               "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
                                  "ContentType": "text/csv", "SplitType": "Line"},
               "TransformOutput": {"S3OutputPath": f"s3://bench/out/{name}", "AssembleWith": "Line"},
               "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}, **extra}
    services.transform_jobs.create(CTX, request)
    row = services.transform_jobs.claim(runner.owner, 60)
    started = time.perf_counter()
    status = runner.run_claimed(row)
    elapsed = time.perf_counter() - started
    if status != "Completed":
        raise SystemExit(f"{name}: {status} {services.transform_jobs.describe(CTX, name).get('FailureReason')}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--single-rows", type=int, default=2_000)
    args = parser.parse_args()
    port = free_port()
    model = subprocess.Popen([sys.executable, "-m", "tests.model_server", "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with tempfile.TemporaryDirectory() as tmp:
            services = Services.build(dataclasses.replace(Settings(), data_dir=Path(tmp)))
            services.endpoints.create_model(CTX, {"ModelName": "m", "PrimaryContainer": {
                "Image": "x", "Environment": {"WATCHKEEPER_UPSTREAM_URL": url}}})
            services.store.put_bytes("s3://bench/in/big.csv", csv_bytes(args.rows))
            services.store.put_bytes("s3://bench/in-small/small.csv", csv_bytes(args.single_rows))
            runner = TransformRunner(services.transform_jobs, services.store, lease_seconds=60)
            cases = [
                ("multi-c1", "s3://bench/in/", args.rows, {"BatchStrategy": "MultiRecord", "MaxPayloadInMB": 1}),
                ("multi-c4", "s3://bench/in/", args.rows,
                 {"BatchStrategy": "MultiRecord", "MaxPayloadInMB": 1, "MaxConcurrentTransforms": 4}),
                ("multi-join", "s3://bench/in/", args.rows,
                 {"BatchStrategy": "MultiRecord", "MaxPayloadInMB": 1, "MaxConcurrentTransforms": 4,
                  "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}}),
                ("single-c1", "s3://bench/in-small/", args.single_rows, {"BatchStrategy": "SingleRecord"}),
                ("single-c4", "s3://bench/in-small/", args.single_rows,
                 {"BatchStrategy": "SingleRecord", "MaxConcurrentTransforms": 4}),
            ]
            print("| job | records | seconds | records/s |\n|---|---|---|---|")
            for name, source, rows, extra in cases:
                elapsed = run_job(services, runner, name, source, **extra)
                print(f"| {name} | {rows:,} | {elapsed:.2f} | {rows / elapsed:,.0f} |")
            services.close()
    finally:
        model.terminate()
        model.wait(timeout=10)


if __name__ == "__main__":
    main()

"""Kernel SHAP throughput (`analysis/explain`): records/s explaining N records x F features, with the number of
model calls, rows sent and (over HTTP) requests, against an in-process numpy model and against the real test
model server (`tests/model_server.py`: CSV rows in, one probability per line out) over loopback HTTP, the
synthetic rows split into requests of at most 1,000 rows / 5 MB sent by a small thread pool, as the Clarify
job's client does. One baseline row (the features' means, as the AWS adult notebook), seed fixed.

    .venv/bin/python bench/shap.py [--records 1000] [--features 5 20 50] [--samples 100 default] [--http-records N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server_process import free_port

from watchkeeper.analysis.explain.kernel_shap import explain

MAX_REQUEST_ROWS = 1_000
MAX_REQUEST_BYTES = 5 * 1024 * 1024


class HttpModel:
    """predict(rows) over HTTP: CSV bodies of at most 1,000 rows / 5 MB, `threads` requests in flight."""

    def __init__(self, url: str, threads: int) -> None:
        self.url = f"{url}/invocations"
        self.client = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=threads))
        self.pool = ThreadPoolExecutor(threads)
        self.requests = 0

    def _post(self, body: bytes) -> np.ndarray:
        response = self.client.post(self.url, content=body, headers={"Content-Type": "text/csv"})
        response.raise_for_status()
        return np.array(response.content.split(), dtype=float)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        text = pl.DataFrame(rows).write_csv(include_header=False).encode()
        lines = text.splitlines(keepends=True)
        bodies, start = [], 0
        while start < len(lines):
            end = min(start + MAX_REQUEST_ROWS, len(lines))
            body = b"".join(lines[start:end])
            while len(body) > MAX_REQUEST_BYTES and end - start > 1:
                end = start + (end - start) // 2
                body = b"".join(lines[start:end])
            bodies.append(body)
            start = end
        self.requests += len(bodies)
        return np.concatenate(list(self.pool.map(self._post, bodies)))

    def close(self) -> None:
        self.pool.shutdown()
        self.client.close()


def numpy_model(weights: np.ndarray):
    def predict(rows: np.ndarray) -> np.ndarray:  # a logistic model with one interaction
        return 1.0 / (1.0 + np.exp(-(rows @ weights + 0.1 * rows[:, 0] * rows[:, 1])))
    return predict


def run(label: str, predict, records: np.ndarray, background: np.ndarray, num_samples: int | None,
        requests_of=None) -> None:
    in_model = 0.0

    def timed(rows: np.ndarray) -> np.ndarray:
        nonlocal in_model
        begun = time.perf_counter()
        try:
            return predict(rows)
        finally:
            in_model += time.perf_counter() - begun

    started = time.perf_counter()
    result = explain(timed, records, background, num_samples=num_samples, seed=0)
    elapsed = time.perf_counter() - started
    requests = f"{requests_of():,}" if requests_of else "-"
    samples = "default" if num_samples is None else num_samples
    print(f"| {label} | {records.shape[0]:,} x {records.shape[1]} | {samples} | {elapsed:.2f} s | "
          f"{records.shape[0] / elapsed:,.0f} | {in_model:.2f} s | {result.model_calls} | {result.rows_sent:,} | "
          f"{requests} |",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--http-records", type=int, default=None, help="records for the HTTP runs (default all)")
    parser.add_argument("--features", type=int, nargs="+", default=[5, 20, 50])
    parser.add_argument("--samples", nargs="+", default=["100", "default"])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    samples = [None if s == "default" else int(s) for s in args.samples]
    print("| model | records x features | num_samples | time | records/s | in predict | model calls | rows sent "
          "| HTTP requests |")
    print("|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    data = {f: rng.normal(size=(args.records, f)) for f in args.features}
    for features in args.features:
        weights = rng.normal(size=features) / np.sqrt(features)
        background = data[features].mean(axis=0, keepdims=True)
        for num_samples in samples:
            run("numpy, in process", numpy_model(weights), data[features], background, num_samples)
    if args.no_http:
        return
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.model_server", "--port", str(port)],
                              cwd=Path(__file__).resolve().parents[1])
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ping").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for features in args.features:
            records = data[features][: args.http_records or args.records]
            background = records.mean(axis=0, keepdims=True)
            for num_samples in samples:
                model = HttpModel(url, args.threads)
                try:
                    run(f"HTTP model server, {args.threads} threads", model, records, background, num_samples,
                        lambda m=model: m.requests)
                finally:
                    model.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()

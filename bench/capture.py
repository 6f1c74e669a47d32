"""Capture writer throughput: how many records/s `CaptureWriter` sustains, and what one call costs the caller.

Producer threads call `capture()` (encode + enqueue, what the request path pays) with a churn-like CSV
record (69 features in, one probability out) for a fixed time; then `close()` writes the rest. Reports
records/s accepted and records/s in storage (end to end, including close), the per-call p50/p99, and how
many objects were written. Every record is checked to be in storage exactly once. Bounded in time; the
embedded store writes to a temporary folder, `--s3` to moto's S3 server on loopback.

    .venv/bin/python bench/capture.py [--threads 4] [--seconds 5] [--flush-interval 1] [--s3]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from watchkeeper.capture.records import SDK_CSV_CONTENT_TYPES, SDK_JSON_CONTENT_TYPES, CaptureConfig
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.storage import LocalObjectStore, ObjectStore

CONFIG = CaptureConfig(
    "s3://bench/capture", csv_content_types=SDK_CSV_CONTENT_TYPES, json_content_types=SDK_JSON_CONTENT_TYPES
)


def churn_row(rng: random.Random) -> bytes:
    values = [str(rng.randint(0, 200)), "0", f"{rng.uniform(0, 350):.1f}"] + [
        str(rng.randint(0, 1)) for _ in range(66)
    ]
    return ",".join(values).encode()


def run(store: ObjectStore, threads: int, seconds: float, flush_interval: float) -> dict[str, float]:
    rng = random.Random(0)
    rows = [churn_row(rng) for _ in range(256)]
    writer = CaptureWriter(store, flush_interval=flush_interval)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    counts = [0] * threads
    stop = threading.Event()
    barrier = threading.Barrier(threads + 1)

    def produce(t: int) -> None:
        mine = latencies[t]
        barrier.wait()
        i = 0
        perf = time.perf_counter
        while not stop.is_set():
            row = rows[i & 255]
            started = perf()
            writer.capture(CONFIG, "churn", "AllTraffic", input_body=row, input_content_type="text/csv",
                           output_body=b"0.3791300654411316", output_content_type="text/csv",
                           inference_id=f"{t}-{i}")
            if i & 63 == 0:
                mine.append(perf() - started)
            i += 1
        counts[t] = i

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    accepted_at = time.perf_counter()
    writer.close()
    closed_at = time.perf_counter()

    total = sum(counts)
    stats = writer.stats()
    assert stats.accepted == stats.written == total and stats.dropped == 0, stats
    ids = set()
    size = 0
    for info in store.list("s3://bench/capture/"):
        data = store.get_bytes(info.uri)
        size += len(data)
        for line in data.splitlines():
            start = line.index(b'"inferenceId":"') + 15
            ids.add(line[start : line.index(b'"', start)])
    assert len(ids) == total, f"{total - len(ids)} records missing in storage"
    per_call = sorted(x for part in latencies for x in part)
    return {
        "records": total,
        "accepted_per_s": total / (accepted_at - started),
        "stored_per_s": total / (closed_at - started),
        "close_s": closed_at - accepted_at,
        "p50_us": statistics.median(per_call) * 1e6,
        "p99_us": per_call[int(len(per_call) * 0.99)] * 1e6,
        "objects": stats.objects,
        "mb_per_s": size / (closed_at - started) / 1e6,
        "bytes_per_record": size / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--flush-interval", type=float, default=1.0)
    parser.add_argument("--s3", action="store_true", help="write to moto's S3 server instead of a folder")
    args = parser.parse_args()
    if args.s3:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

        from watchkeeper.storage.s3 import S3ObjectStore

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        store: ObjectStore = S3ObjectStore(endpoint_url=f"http://{host}:{port}", access_key_id="k",
                                           secret_access_key="s")
        store.client.create_bucket(Bucket="bench")  # type: ignore[attr-defined]
        kind = "moto S3"
    else:
        tmp = tempfile.TemporaryDirectory(prefix="wk-bench-capture-")
        store = LocalObjectStore(tmp.name)
        kind = "embedded folder"
    result = run(store, args.threads, args.seconds, args.flush_interval)
    print(f"store: {kind}; {args.threads} threads, {args.seconds:g} s; flush every {args.flush_interval:g} s")
    print("| records | accepted rec/s | stored rec/s (incl. close) | capture() p50 | p99 | objects | MB/s |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {result['records']:,} | {result['accepted_per_s']:,.0f} | {result['stored_per_s']:,.0f} "
        f"| {result['p50_us']:.1f} µs | {result['p99_us']:.1f} µs | {result['objects']} "
        f"| {result['mb_per_s']:.1f} |"
    )
    print(f"close took {result['close_s'] * 1000:.0f} ms; {result['bytes_per_record']:.0f} bytes per record")


if __name__ == "__main__":
    main()

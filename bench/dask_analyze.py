"""Data-quality analysis in one process against a 2-worker Dask LocalCluster on the same machine, same run.

    .venv/bin/python bench/dask_analyze.py [--records 2000000] [--capture-records 1000000] [--files 8] [--workers 2]

Inputs (written once, with numpy and polars): a CSV dataset of 20 features (10 floats with 5 decimals, 8
integers with 2% words in one, 2 small categoricals) as one file, cut by the executor into 32 MB parts; and the
same features as SageMaker capture records in `--files` files (whole files are the parts). For each: wall time
and records/s of `suggest_baseline` in this process, then with the cluster (its start-up timed apart), the CPU
seconds each spent (this process's, each worker's: on a busy machine they say what the wall times cannot),
each worker's peak RSS, and whether the two runs agree (item count, constraints.json, bad rows).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl


def features(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(10):
        columns[f"x{i}"] = np.char.mod("%.5f", rng.normal(100, 15, rows))
    for i in range(8):
        columns[f"n{i}"] = rng.integers(0, 10_000, rows).astype(str)
    columns["n0"] = np.where(rng.random(rows) < 0.02, "unknown", columns["n0"])
    columns["c0"] = rng.choice(["red", "green", "blue"], rows)
    columns["c1"] = rng.choice(["s", "m", "l", "xl"], rows)
    return pl.DataFrame(columns)


def write_csv(path: Path, rows: int) -> None:
    step = 500_000
    with open(path, "wb") as handle:
        for index, start in enumerate(range(0, rows, step)):
            features(min(step, rows - start), index).write_csv(handle, include_header=index == 0)


def write_capture(folder: Path, rows: int, files: int) -> None:
    per_file = -(-rows // files)
    for index in range(files):
        n = min(per_file, rows - index * per_file)
        frame = features(n, 100 + index)
        data = frame.select(pl.concat_str(pl.all(), separator=",").alias("d")).to_series()
        head = ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"')
        tail = ('","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT",'
                '"data":"0.5","encoding":"CSV"}},"eventMetadata":{"eventId":"x",'
                '"inferenceTime":"2022-03-24T00:10:00Z"},"eventVersion":"0"}')
        lines = pl.DataFrame({"i": data}).select(pl.concat_str(pl.lit(head), pl.col("i"), pl.lit(tail))).to_series()
        hour = folder / "ep" / "AllTraffic" / "2022" / "03" / "24" / "00"
        hour.mkdir(parents=True, exist_ok=True)
        (hour / f"10-00-000-{index:04d}.jsonl").write_text("\n".join(lines.to_list()) + "\n")


def measure(label: str, source: Path, fmt: dict, out: Path, client: object, records: int) -> None:
    from watchkeeper.jobs.analyzers.data_quality import suggest_baseline
    from watchkeeper.jobs.analyzers.distributed import data_quality_compute
    from watchkeeper.jobs.executors.dask import DaskRunner
    from watchkeeper.jobs.toolkit.job_log import JobLog

    quiet = JobLog(open(os.devnull, "w"))
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file()) / 1e6
    cpu = time.process_time()
    started = time.perf_counter()
    one = suggest_baseline(source, out / "one", fmt, log=quiet)
    single = time.perf_counter() - started
    single_cpu = time.process_time() - cpu
    workers_before = client.run(time.process_time)
    cpu = time.process_time()
    started = time.perf_counter()
    two = suggest_baseline(source, out / "two", fmt, log=quiet,
                           compute=data_quality_compute(DaskRunner(client)))
    spread = time.perf_counter() - started
    driver_cpu = time.process_time() - cpu
    workers_cpu = [after - workers_before[worker] for worker, after in client.run(time.process_time).items()]
    same = (one.item_count == two.item_count == records and one.bad_records == two.bad_records
            and (out / "one" / "constraints.json").read_text() == (out / "two" / "constraints.json").read_text())
    print(json.dumps({
        "input": label, "records": records, "MB": round(size), "load_average": os.getloadavg()[0],
        "one_process_s": round(single, 2), "one_process_records_per_s": round(records / single),
        "one_process_cpu_s": round(single_cpu, 2),
        "cluster_s": round(spread, 2), "cluster_records_per_s": round(records / spread),
        "cluster_driver_cpu_s": round(driver_cpu, 2), "cluster_worker_cpu_s": [round(c, 2) for c in workers_cpu],
        "worker_peak_rss_mb": sorted(round(kb / 1024) for kb in client.run(_peak_rss_kb).values()),
        "speed-up": round(single / spread, 2), "same_counts_and_constraints": same,
    }), flush=True)


def _peak_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2_000_000, help="CSV records (one file)")
    parser.add_argument("--capture-records", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=8, help="capture files")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    from watchkeeper.jobs.executors.dask import LOCAL_CLUSTER

    with tempfile.TemporaryDirectory(prefix="wk-dask-bench-") as tmp:
        root = Path(tmp)
        (root / "csv").mkdir()
        started = time.perf_counter()
        write_csv(root / "csv" / "data.csv", args.records)
        write_capture(root / "capture", args.capture_records, args.files)
        print(json.dumps({"inputs_written_s": round(time.perf_counter() - started, 1)}), flush=True)
        started = time.perf_counter()
        with LocalCluster(n_workers=args.workers, **LOCAL_CLUSTER) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("watchkeeper.jobs.analyzers.parts"))  # imports paid before timing
            print(json.dumps({"cluster_start_s": round(time.perf_counter() - started, 1),
                              "workers": args.workers, "cores": os.cpu_count()}), flush=True)
            measure("csv", root / "csv", {"csv": {"header": True}}, root / "out-csv", client, args.records)
            measure("capture", root / "capture", {"sagemakerCaptureJson": {}}, root / "out-capture", client,
                    args.capture_records)


if __name__ == "__main__":
    main()

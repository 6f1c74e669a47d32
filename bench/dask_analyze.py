"""Data-quality analysis in one process against a 2-worker Dask LocalCluster on the same machine, same run.

    .venv/bin/python bench/dask_analyze.py [--records 2000000] [--capture-records 1000000] [--files 8]
        [--workers 2] [--data DIR]

Inputs (written with numpy and polars, a capture file or a 500,000-row CSV chunk at a time, so 20M records never
sit in memory): a CSV dataset of 20 features (10 floats with 5 decimals, 8 integers with 2% words in one, 2 small
categoricals) as one file, cut by the executor into 32 MB parts (`--records 0` leaves it out); and the same
features as SageMaker capture records in `--files` files, one per capture hour (whole files are the parts). For
each: wall time and records/s of `suggest_baseline` in this process, then with the cluster (its start-up timed
apart); the CPU seconds each spent (this process's, each worker's: on a busy machine they say what the wall times
cannot); the peak RSS (`VmHWM`, reset before each run) of this process and of each worker; the load average
before and after; and whether the two runs agree: item count, bad rows, constraints.json, and statistics.json
field by field (identical counts, types, min/max and categorical buckets; float sums and std_dev within 1e-12;
the KLL buckets' cumulative counts within 1% of the count, docs/dask.md).

`--data DIR` writes the inputs there and leaves them (delete DIR afterwards); a second run with the same sizes
reuses them. Without it they go to a temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import watchkeeper  # (before polars, as in a job process: it sets polars' allocator options)

# isort: split
import polars as pl

KLL_RANK_ERROR = 0.01  # of the count, as tests/dask/test_data_quality.py allows each run against the exact ranks
ROUNDING = 1e-12  # float sums and std_dev: parts summed apart (docs/dask.md)


def _decimals(values: np.ndarray) -> pl.Series:
    """`"%.5f" % value` for each value, through polars (np.char.mod took two thirds of the writing time)."""
    scaled = pl.Series(np.rint(np.abs(values) * 1e5).astype(np.int64))
    sign = pl.Series(np.where(values < 0, "-", ""))
    frame = pl.DataFrame({"s": sign, "x": scaled})
    return frame.select(pl.concat_str(pl.col("s"), (pl.col("x") // 100_000).cast(pl.String), pl.lit("."),
                                      (pl.col("x") % 100_000).cast(pl.String).str.zfill(5))).to_series()


def features(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, pl.Series] = {}
    for i in range(10):
        columns[f"x{i}"] = _decimals(rng.normal(100, 15, rows))
    for i in range(8):
        columns[f"n{i}"] = pl.Series(rng.integers(0, 10_000, rows)).cast(pl.String)
    words = pl.Series(rng.random(rows) < 0.02)
    columns["n0"] = pl.select(pl.when(words).then(pl.lit("unknown")).otherwise(columns["n0"])).to_series()
    columns["c0"] = pl.Series(rng.choice(["red", "green", "blue"], rows))
    columns["c1"] = pl.Series(rng.choice(["s", "m", "l", "xl"], rows))
    return pl.DataFrame(columns)


def write_csv(path: Path, rows: int) -> None:
    step = 500_000
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        for index, start in enumerate(range(0, rows, step)):
            features(min(step, rows - start), index).write_csv(handle, include_header=index == 0)


def write_capture(folder: Path, rows: int, files: int) -> None:
    """`files` capture files, one per hour from 2022-03-24T00, the records spread evenly; one file in memory."""
    per_file = -(-rows // files)
    for index in range(files):
        n = min(per_file, rows - index * per_file)
        if n <= 0:
            break
        day, hour = 24 + index // 24, index % 24  # past the 31st the days run on: the folder is only a name
        head = '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"'
        tail = ('","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv","mode":"OUTPUT",'
                '"data":"0.5","encoding":"CSV"}},"eventMetadata":{"eventId":"x",'
                f'"inferenceTime":"2022-03-{day:02d}T{hour:02d}:10:00Z"}},"eventVersion":"0"}}')
        lines = features(n, 100 + index).select(
            pl.concat_str(pl.lit(head), pl.concat_str(pl.all(), separator=","), pl.lit(tail)).alias("line"))
        where = folder / "ep" / "AllTraffic" / "2022" / "03" / f"{day:02d}" / f"{hour:02d}"
        where.mkdir(parents=True, exist_ok=True)
        lines.write_csv(where / f"10-00-000-{index:04d}.jsonl", include_header=False, quote_style="never")


def _peak_rss_kb() -> int:
    """This process's peak RSS since the last reset (`VmHWM`)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _reset_peak_rss() -> None:
    """Sets `VmHWM` back to the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _package_file() -> str:
    """Where Watchkeeper is imported from (PYTHONPATH can pin the driver and workers to one checkout)."""
    return str(watchkeeper.__file__)


def _features(folder: Path) -> list[dict[str, Any]]:
    return json.loads((folder / "statistics.json").read_text())["features"]


def compare_statistics(one: Path, two: Path) -> dict[str, Any]:
    """statistics.json of the cluster run against one process's, per docs/dask.md's "Exactness" table."""
    exact_differs: list[str] = []
    sum_rel = std_rel = kll_rank = 0.0
    for mine, theirs in zip(_features(two), _features(one), strict=True):
        name = theirs["name"]
        if (mine["name"], mine["inferred_type"]) != (name, theirs["inferred_type"]):
            exact_differs.append(f"{name}: name or type")
            continue
        if "string_statistics" in theirs:
            if mine.get("string_statistics") != theirs["string_statistics"]:
                exact_differs.append(f"{name}: string_statistics")
            continue
        got, want = mine["numerical_statistics"], theirs["numerical_statistics"]
        if got["common"] != want["common"] or (got["min"], got["max"]) != (want["min"], want["max"]):
            exact_differs.append(f"{name}: common or min/max")
        sum_rel = max(sum_rel, abs(got["sum"] - want["sum"]) / max(abs(want["sum"]), 1e-300))
        std_rel = max(std_rel, abs(got["std_dev"] - want["std_dev"]) / max(abs(want["std_dev"]), 1e-300))
        mine_kll, theirs_kll = got["distribution"]["kll"]["buckets"], want["distribution"]["kll"]["buckets"]
        if [(b["lower_bound"], b["upper_bound"]) for b in mine_kll] != \
                [(b["lower_bound"], b["upper_bound"]) for b in theirs_kll]:
            exact_differs.append(f"{name}: KLL bucket bounds")
            continue
        n = sum(b["count"] for b in theirs_kll)
        if sum(b["count"] for b in mine_kll) != n:
            exact_differs.append(f"{name}: KLL total count")
        below_mine = below_theirs = 0.0
        for a, b in zip(mine_kll, theirs_kll, strict=True):
            below_mine += a["count"]
            below_theirs += b["count"]
            kll_rank = max(kll_rank, abs(below_mine - below_theirs) / n if n else 0.0)
    return {"exact_fields_differ": exact_differs, "max_sum_rel_diff": float(f"{sum_rel:.3g}"),
            "max_std_dev_rel_diff": float(f"{std_rel:.3g}"), "max_kll_cumulative_diff_of_n": round(kll_rank, 5),
            "agree": not exact_differs and sum_rel <= ROUNDING and std_rel <= ROUNDING
            and kll_rank <= KLL_RANK_ERROR and math.isfinite(sum_rel + std_rel)}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(label: str, source: Path, fmt: dict[str, Any], out: Path, client: Any, records: int) -> None:
    from watchkeeper.jobs.analyzers.data_quality import suggest_baseline
    from watchkeeper.jobs.analyzers.distributed import data_quality_compute
    from watchkeeper.jobs.executors.dask import DaskRunner
    from watchkeeper.jobs.toolkit.job_log import JobLog

    run: Callable[[dict[str, Any]], dict[str, Any]] = client.run
    quiet = JobLog(open(os.devnull, "w"))
    files = [p for p in source.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 1e6
    load_before = _load()
    _reset_peak_rss()
    cpu = time.process_time()
    started = time.perf_counter()
    one = suggest_baseline(source, out / "one", fmt, log=quiet)
    single = time.perf_counter() - started
    single_cpu = time.process_time() - cpu
    single_rss = _peak_rss_kb()
    load_between = _load()
    run(_reset_peak_rss)
    _reset_peak_rss()
    workers_before = run(time.process_time)
    cpu = time.process_time()
    started = time.perf_counter()
    two = suggest_baseline(source, out / "two", fmt, log=quiet,
                           compute=data_quality_compute(DaskRunner(client)))
    spread = time.perf_counter() - started
    driver_cpu = time.process_time() - cpu
    driver_rss = _peak_rss_kb()
    workers_cpu = [after - workers_before[worker] for worker, after in sorted(run(time.process_time).items())]
    workers_rss = [kb for _, kb in sorted(run(_peak_rss_kb).items())]
    load_after = _load()
    statistics = compare_statistics(out / "one", out / "two")
    same = (one.item_count == two.item_count == records and one.bad_records == two.bad_records
            and (out / "one" / "constraints.json").read_text() == (out / "two" / "constraints.json").read_text())
    cluster_cpu = driver_cpu + sum(workers_cpu)
    print(json.dumps({
        "input": label, "records": records, "files": len(files), "MB": round(size),
        "load_average_before": load_before, "load_average_between": load_between, "load_average_after": load_after,
        "one_process_s": round(single, 2), "one_process_records_per_s": round(records / single),
        "one_process_cpu_s": round(single_cpu, 2), "one_process_peak_rss_mb": round(single_rss / 1024),
        "one_process_records_per_core_hour_M": round(records / single_cpu * 3600 / 1e6, 1),
        "cluster_s": round(spread, 2), "cluster_records_per_s": round(records / spread),
        "cluster_driver_cpu_s": round(driver_cpu, 2), "cluster_worker_cpu_s": [round(c, 2) for c in workers_cpu],
        "cluster_records_per_core_hour_M": round(records / cluster_cpu * 3600 / 1e6, 1),
        "cluster_driver_peak_rss_mb": round(driver_rss / 1024),
        "worker_peak_rss_mb": [round(kb / 1024) for kb in workers_rss],
        "speed-up": round(single / spread, 2), "item_count": two.item_count, "bad_records": two.bad_records,
        "same_counts_and_constraints": same, "statistics": statistics,
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2_000_000, help="CSV records (one file); 0: no CSV run")
    parser.add_argument("--capture-records", type=int, default=1_000_000, help="0: no capture run")
    parser.add_argument("--files", type=int, default=8, help="capture files (one per capture hour)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, help="write the inputs here and keep them (reused by the same sizes)")
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    from watchkeeper.jobs.executors.dask import LOCAL_CLUSTER

    root = args.data or Path(tempfile.mkdtemp(prefix="wk-dask-bench-"))
    try:
        root.mkdir(parents=True, exist_ok=True)
        sizes = {"records": args.records, "capture_records": args.capture_records, "files": args.files}
        marker = root / "inputs.json"
        if not marker.exists() or json.loads(marker.read_text()) != sizes:
            for stale in ("csv", "capture", "out-csv", "out-capture"):
                shutil.rmtree(root / stale, ignore_errors=True)
            started = time.perf_counter()
            if args.records:
                write_csv(root / "csv" / "data.csv", args.records)
            if args.capture_records:
                write_capture(root / "capture", args.capture_records, args.files)
            marker.write_text(json.dumps(sizes))
            print(json.dumps({"inputs_written_s": round(time.perf_counter() - started, 1),
                              "writer_peak_rss_mb": round(_peak_rss_kb() / 1024)}), flush=True)
        started = time.perf_counter()
        with LocalCluster(n_workers=args.workers, **LOCAL_CLUSTER) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("watchkeeper.jobs.analyzers.parts"))  # imports paid before timing
            code = {str(Path(file).parent.parent) for file in client.run(_package_file).values()}
            print(json.dumps({"cluster_start_s": round(time.perf_counter() - started, 1),
                              "workers": args.workers, "cores": os.cpu_count(),
                              "code": sorted(code | {str(Path(_package_file()).parent.parent)})}), flush=True)
            if args.records:
                measure("csv", root / "csv", {"csv": {"header": True}}, root / "out-csv", client, args.records)
            if args.capture_records:
                measure("capture", root / "capture", {"sagemakerCaptureJson": {}}, root / "out-capture", client,
                        args.capture_records)
    finally:
        if args.data is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

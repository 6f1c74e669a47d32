"""Analyzer throughput: `suggest_baseline` on a generated 1M-row CSV and `analyze` on 1M capture records.

    .venv/bin/python bench/analyze.py [--rows 1000000] [--features 20] [--files 60]

Prints rows/s, MB/s and peak RSS for each job, with the raw polars parse time of the same input beside it
(the floor: reading without analysing). Each job runs in its own process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl


def make_csv(path: Path, rows: int, features: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    columns = {"label": rng.integers(0, 2, rows).astype(str)}
    for i in range(features - 1):
        if i % 2:
            columns[f"f{i}"] = np.round(rng.normal(100, 15, rows), 2).astype(str)
        else:
            columns[f"f{i}"] = rng.integers(0, 1000, rows).astype(str)
    pl.DataFrame(columns).write_csv(path)


def make_capture(folder: Path, rows: int, features: int, files: int, seed: int = 2) -> None:
    """`rows` capture records spread over `files` hourly-layout files: CSV input, CSV output."""
    rng = np.random.default_rng(seed)
    per_file = -(-rows // files)
    written = 0
    for index in range(files):
        n = min(per_file, rows - written)
        if n <= 0:
            break
        inputs = [np.round(rng.normal(100, 15, n), 2).astype(str) if i % 2 else rng.integers(0, 1000, n).astype(str)
                  for i in range(features - 1)]
        frame = pl.DataFrame({f"f{i}": col for i, col in enumerate(inputs)})
        data = frame.select(pl.concat_str(pl.all(), separator=",").alias("d")).to_series()
        output = pl.Series(np.round(rng.random(n), 4).astype(str))
        minute = index % 60
        lines = pl.DataFrame({"i": data, "o": output}).select(
            pl.format('{{"captureData":{{"endpointInput":{{"observedContentType":"text/csv","mode":"INPUT",'
                      '"data":"{}","encoding":"CSV"}},"endpointOutput":{{"observedContentType":"text/csv",'
                      '"mode":"OUTPUT","data":"{}","encoding":"CSV"}}}},"eventMetadata":{{"eventId":"x",'
                      f'"inferenceTime":"2022-03-24T00:{minute:02d}:00Z"}}}},"eventVersion":"0"}}}}',
                      pl.col("i"), pl.col("o"))).to_series()
        hour = folder / "ep" / "AllTraffic" / "2022" / "03" / "24" / "00"
        hour.mkdir(parents=True, exist_ok=True)
        (hour / f"{minute:02d}-00-000-{index:04d}.jsonl").write_text("\n".join(lines.to_list()) + "\n")
        written += n


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike getrusage's maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _job(kind: str, source: str, out: str, baseline: str | None, queue) -> None:
    from watchkeeper.jobs.analyzers.data_quality import analyze, suggest_baseline
    from watchkeeper.jobs.toolkit.job_log import JobLog

    log = JobLog(io.StringIO())
    start = time.perf_counter()
    if kind == "baseline":
        summary = suggest_baseline(source, out, {"csv": {"header": True}}, log=log)
    else:
        summary = analyze(source, out, baseline_statistics=f"{baseline}/statistics.json",
                          baseline_constraints=f"{baseline}/constraints.json", log=log)
    queue.put((time.perf_counter() - start, summary.item_count, _peak_rss_mb()))


def _parse(kind: str, source: str, queue) -> None:
    start = time.perf_counter()
    if kind == "baseline":
        pl.read_csv(source, infer_schema=False)
    else:
        from watchkeeper.capture.reader import CAPTURE_SCHEMA

        for path in sorted(Path(source).rglob("*.jsonl")):
            pl.read_ndjson(path, schema=CAPTURE_SCHEMA)
    queue.put(time.perf_counter() - start)


def _in_process(target, *args):
    context = multiprocessing.get_context("spawn")  # forking after polars started its threads can hang
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--files", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_csv(root / "train.csv", args.rows, args.features)
        make_capture(root / "capture", args.rows, args.features, args.files)
        results = {}
        for kind, source in (("baseline", root / "train.csv"), ("analyze", root / "capture")):
            seconds, rows, rss = _in_process(_job, kind, str(source), str(root / f"out-{kind}"),
                                             str(root / "out-baseline"))
            parse = _in_process(_parse, kind, str(source))
            size = _size_mb(source)
            results[kind] = {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                             "mb_per_s": round(size / seconds, 1), "input_mb": round(size, 1),
                             "peak_rss_mb": round(rss), "polars_parse_s": round(parse, 2)}
            print(f"{kind:8s} {rows:>9,} rows  {seconds:6.2f} s  {rows / seconds:>10,.0f} rows/s  "
                  f"{size / seconds:6.1f} MB/s  peak RSS {rss:6.0f} MB  (polars parse alone {parse:.2f} s, "
                  f"{size:.0f} MB)")
        print(json.dumps(results))


if __name__ == "__main__":
    main()

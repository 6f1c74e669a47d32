"""Analyzer throughput on several shapes of capture data (issue 13), with polars' raw parse and optional peers.

    .venv/bin/python bench/analyze.py [--rows 1000000] [--shapes 0,1,...] [--repeat 3]
        [--peers] [--peer-python /path/to/python] [--train-rows 100000]

For each shape of `bench/analyze_shapes.py` (20 and 200 features; 2, 5 and 6 decimals; 8 files, one file and
200 files; 2 % non-numeric values in an integer column; CSV and JSON payloads) it writes `--rows` capture
records and a training CSV, makes the baseline (`suggest_baseline`, timed once) and runs `analyze` against
it `--repeat` times, each in its own process (peak RSS is the process's own), each followed by polars' raw
parse of the same files (`pl.read_ndjson` with the full capture schema, in its own process): the ratio is
of the same run. Prints, per shape: records/s (median and range), CPU seconds, peak RSS, the ratio, and the
share of the machine's CPU time the hypervisor gave to others while the job ran ("steal", from /proc/stat:
on a shared virtual machine the same work takes a third longer at 15-20 % steal).

With `--peers`, whylogs and Evidently (`bench/analyze_peers.py`) run on the issue's shape's files in the
same run, beside Watchkeeper's baseline + analysis; a peer that is not installed is skipped and named.
Every side is timed from after its imports (Watchkeeper's two jobs each in a fresh process, as above).
`--peer-python` runs them with another interpreter (a virtual environment holding them), so they need not
be installed in the project's.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import watchkeeper  # noqa: F401  (before polars, as in a job process: it sets polars' allocator options)

# isort: split
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from analyze_shapes import SHAPES, Shape, make_capture, make_training_csv


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike getrusage's maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _job(kind: str, source: str, out: str, baseline: str, queue) -> None:
    from watchkeeper.jobs.analyzers.data_quality import analyze, suggest_baseline
    from watchkeeper.jobs.toolkit.job_log import JobLog

    log = JobLog(io.StringIO())
    start, cpu = time.perf_counter(), _cpu()
    if kind == "baseline":
        summary = suggest_baseline(source, out, {"csv": {"header": True}}, log=log)
    else:
        summary = analyze(source, out, baseline_statistics=f"{baseline}/statistics.json",
                          baseline_constraints=f"{baseline}/constraints.json", log=log)
    queue.put((time.perf_counter() - start, _cpu() - cpu, summary.item_count, _peak_rss_mb()))


def _parse(source: str, queue) -> None:
    from watchkeeper.capture.reader import CAPTURE_SCHEMA

    start = time.perf_counter()
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


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _cpu_times() -> list[int]:
    """The machine's CPU times from /proc/stat (user, nice, system, idle, iowait, irq, softirq, steal);
    empty where there is no /proc/stat."""
    try:
        return [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return []


def _steal_share(before: list[int], after: list[int]) -> float:
    """Steal as a share of all CPU time between two `_cpu_times` readings (0 when unknown)."""
    if len(before) < 8 or len(after) < 8:
        return 0.0
    deltas = [b - a for a, b in zip(before, after, strict=True)]
    return deltas[7] / sum(deltas) if sum(deltas) else 0.0


def run_shape(root: Path, shape: Shape, rows: int, train_rows: int, repeat: int) -> dict:
    rows = shape.rows or rows
    capture, training, baseline = root / "capture", root / "train.csv", root / "baseline"
    make_capture(capture, shape, rows)
    make_training_csv(training, shape, train_rows)
    base_s, _, _, _ = _in_process(_job, "baseline", str(training), str(baseline), str(baseline))
    runs = []
    for index in range(repeat):
        load, times = _load(), _cpu_times()
        seconds, cpu, items, rss = _in_process(_job, "analyze", str(capture), str(root / f"out{index}"),
                                               str(baseline))
        steal = _steal_share(times, _cpu_times())
        parse = _in_process(_parse, str(capture))
        runs.append({"seconds": seconds, "cpu_s": cpu, "items": items, "peak_rss_mb": rss, "parse_s": parse,
                     "ratio": seconds / parse, "load": load, "steal": steal})
    rates = [r["items"] / r["seconds"] for r in runs]
    result = {
        "shape": shape.name, "rows": rows, "input_mb": round(_size_mb(capture)), "baseline_s": round(base_s, 2),
        "records_per_s": round(statistics.median(rates)), "records_per_s_range": [round(min(rates)), round(max(rates))],
        "cpu_s": [round(r["cpu_s"], 2) for r in runs], "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        "ratio_to_parse": [round(r["ratio"], 2) for r in runs], "parse_s": [round(r["parse_s"], 2) for r in runs],
        "load": [r["load"] for r in runs], "steal": [round(r["steal"], 3) for r in runs],
    }
    print(f"{shape.name:44s} {rows:>9,} rec  {result['records_per_s']:>9,} rec/s "
          f"({result['records_per_s_range'][0]:,}-{result['records_per_s_range'][1]:,})  "
          f"cpu {min(result['cpu_s']):.1f}-{max(result['cpu_s']):.1f} s  peak RSS {result['peak_rss_mb']:>5} MB  "
          f"÷ parse {min(result['ratio_to_parse']):.2f}-{max(result['ratio_to_parse']):.2f}  "
          f"(load {min(result['load']):.1f}-{max(result['load']):.1f}, "
          f"steal {100 * min(result['steal']):.0f}-{100 * max(result['steal']):.0f} %)", flush=True)
    return result


def run_peers(root: Path, python: str) -> list[dict]:
    """Watchkeeper's baseline + analysis, then each peer, on the files of the last shape run (in `root`)."""
    out = []
    # Each job's own seconds, from after its imports: the peers are timed the same way (analyze_peers.py).
    baseline_s, _, _, _ = _in_process(_job, "baseline", str(root / "train.csv"), str(root / "peer-baseline"), "")
    analyze_s, _, _, _ = _in_process(_job, "analyze", str(root / "capture"), str(root / "peer-out"),
                                     str(root / "peer-baseline"))
    mine = baseline_s + analyze_s
    out.append({"peer": "watchkeeper (baseline + analyze)", "seconds": mine})
    print(f"  watchkeeper baseline + analyze  {mine:7.2f} s", flush=True)
    for peer in ("whylogs", "evidently"):
        done = subprocess.run([python, str(Path(__file__).parent / "analyze_peers.py"), peer, str(root / "capture"),
                               str(root / "train.csv")], capture_output=True, text=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {"peer": peer, "skipped": f"failed: {done.stderr[-300:]}"}
        out.append(result)
        if "skipped" in result:
            print(f"  {peer:31s} skipped: {result['skipped']}", flush=True)
        else:
            print(f"  {peer:31s} {result['seconds']:7.2f} s  ({result['seconds'] / mine:.1f}x Watchkeeper)  "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--shapes", help="comma-separated indices of the shapes to run (default all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peers", action="store_true", help="whylogs and Evidently on the issue's shape")
    parser.add_argument("--peer-python", default=sys.executable, help="interpreter that has the peers")
    args = parser.parse_args()
    shapes = list(SHAPES.values())
    chosen = [shapes[int(i)] for i in args.shapes.split(",")] if args.shapes else shapes
    results = []
    for shape in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run_shape(Path(tmp), shape, args.rows, args.train_rows, args.repeat))
            if args.peers and shape is shapes[0]:
                results[-1]["peers"] = run_peers(Path(tmp), args.peer_python)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

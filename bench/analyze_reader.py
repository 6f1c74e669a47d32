"""The capture reader and the statistics alone, in this process, on files already in memory: the analysis
without the job around it (no process start, file reads, baseline checks or report writing).

    .venv/bin/python bench/analyze_reader.py [--shape 0] [--rows 1000000] [--repeat 2]

Shapes are `bench/analyze_shapes.py`'s, by index. Prints wall and CPU seconds (user + system, every
thread) and records/s per run; the first run of a process pays its regex compiles and pool start.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import watchkeeper  # noqa: F401  (before polars, as in a job process: it sets polars' allocator options)

sys.path.insert(0, str(Path(__file__).parent))

from analyze_shapes import SHAPES, make_capture

from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.capture.reader import CaptureReader


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, default=0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    shape = list(SHAPES.values())[args.shape]
    rows = shape.rows or args.rows
    with tempfile.TemporaryDirectory() as folder:
        make_capture(Path(folder), shape, rows)
        contents = [path.read_bytes() for path in sorted(Path(folder).rglob("*.jsonl"))]
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), _cpu()
        state = DatasetState()
        for batch in CaptureReader().batches(contents):
            state.update(batch)
        wall = time.perf_counter() - start
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"{shape.name}: {state.item_count:,} records in {wall:.2f} s, CPU {_cpu() - cpu:.2f} s, "
              f"{state.item_count / wall:,.0f} records/s (load {load})", flush=True)


if __name__ == "__main__":
    main()

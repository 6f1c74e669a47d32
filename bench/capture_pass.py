"""The direct route's two passes over the same capture pieces, in process: CPU microseconds per line.

    .venv/bin/python bench/capture_pass.py [--rows 340000] [--shapes 0,5] [--rounds 3]

For each shape of `bench/analyze_shapes.py` it writes `--rows` capture records, cuts them into the reader's
pieces (`capture/reader.py`), and reads every piece by the polars pass (`direct.split_piece`, with the
expected classes of the first piece, as the reader gives them), by the compiled pass (`direct_scan.scan_piece`,
all of it) and by its C loop alone; the three alternate, `--rounds` times.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import watchkeeper  # noqa: F401  (before polars, as in a job process: it sets polars' allocator options)

# isort: split
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from analyze_shapes import SHAPES, Shape, make_capture

from watchkeeper.analysis.columns import column_names
from watchkeeper.capture import direct, direct_scan
from watchkeeper.capture.reader import CaptureStats, _coalesced
from watchkeeper.capture.scan_library import ScanFunctions, functions
from watchkeeper.jobs.toolkit.inputs import file_contents, list_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=340_000)
    parser.add_argument("--shapes", default="0,5")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    library = functions()
    if library is None:
        sys.exit("the compiled pass is not available (no C compiler?)")
    for index in (int(part) for part in args.shapes.split(",")):
        measure(list(SHAPES.values())[index], args.rows, args.rounds, library)


def measure(shape: Shape, rows: int, rounds: int, library: ScanFunctions) -> None:
    with tempfile.TemporaryDirectory() as folder:
        make_capture(Path(folder), shape, rows)
        pieces = list(_coalesced(file_contents(list_files(folder), None), CaptureStats()))
    layout = direct.layout_of(direct.first_line(pieces[0]), ["endpointInput", "endpointOutput"], True)
    names = column_names(len(layout.analysed))
    expected = direct.split_piece(pieces[0], layout, names, None, None).expected
    template = direct_scan.template_of(layout, ())
    lines = sum(piece.count(b"\n") for piece in pieces)

    def c_loop(piece: bytes) -> None:
        slots = library.lines(piece, len(piece))
        views = np.empty(template.outputs_count * slots * 4, np.uint32)
        classes = np.empty(template.outputs_count * slots, np.uint8)
        library.scan(piece, len(piece), template.kinds.ctypes.data, template.outputs.ctypes.data,
                     len(template.kinds), template.texts.ctypes.data, template.bounds.ctypes.data, slots,
                     views.ctypes.data, classes.ctypes.data)

    passes = {
        "polars pass": lambda piece: direct.split_piece(piece, layout, names, None, None, expected),
        "compiled pass": lambda piece: direct_scan.scan_piece(piece, layout, names, None, None),
        "C loop alone": c_loop,
    }
    timings: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(rounds):
        for name, read in passes.items():
            start = time.process_time()
            for piece in pieces:
                read(piece)
            timings[name].append((time.process_time() - start) * 1e6 / lines)
    summary = "  ".join(f"{name} {min(values):.2f}-{max(values):.2f}" for name, values in timings.items())
    print(f"{shape.name:45s} {lines:,} lines in {len(pieces)} pieces, CPU µs per line: {summary}")


if __name__ == "__main__":
    main()

"""Parts cut where the single-process reader cuts its chunks, and nothing lost or read twice."""

from __future__ import annotations

import numpy as np

from watchkeeper.jobs.toolkit.inputs import _read_chunks
from watchkeeper.jobs.toolkit.partitions import Segment, chunks, plan


def _lines_file(path, rows: int, seed: int):
    rng = np.random.default_rng(seed)
    path.write_bytes(b"".join(b"x" * int(n) + b"\n" for n in rng.integers(0, 300, rows)))
    return path


def test_a_large_file_is_cut_at_the_line_ends_of_the_single_process_chunks(tmp_path):
    path = _lines_file(tmp_path / "big.csv", 5000, 1)
    for step in (1000, 4096, 65536):
        want = list(_read_chunks(path, step))  # the single-process reader's chunks
        parts = plan([path], split=True, part_bytes=step)
        assert [part.segments[0].read() for part in parts] == want
        assert all(len(part.segments) == 1 for part in parts)
        whole = Segment(str(path), 0, path.stat().st_size)
        assert list(chunks(whole, step)) == want


def test_a_step_without_a_line_end_joins_the_next(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"a\n" + b"y" * 5000 + b"\nb\n")
    parts = plan([path], split=True, part_bytes=1000)
    assert [part.segments[0].read() for part in parts] == list(_read_chunks(path, 1000))
    assert b"".join(part.segments[0].read() for part in parts) == path.read_bytes()


def test_small_files_are_grouped_in_order_and_unsplit_formats_stay_whole(tmp_path):
    files = [_lines_file(tmp_path / f"{i}.csv", 20, i) for i in range(6)]
    sizes = [f.stat().st_size for f in files]
    parts = plan(files, split=True, part_bytes=8 * max(sizes))  # groups of about 2 files
    assert [s.path for part in parts for s in part.segments] == [str(f) for f in files]
    assert all(s.whole for part in parts for s in part.segments)
    assert len(parts) < len(files)
    big = _lines_file(tmp_path / "big.json", 3000, 9)
    assert [p.segments for p in plan([big], split=False, part_bytes=1000)] == [
        (Segment(str(big), 0, big.stat().st_size),)]

"""Large capture files are parsed in parts (cut at line ends) on a parse thread: the rows and what was
counted are those of reading each file whole, and a file is counted once however many parts it has."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from tests.capture.test_reader import record
from watchkeeper.capture.reader import CaptureReader, FilePart
from watchkeeper.jobs.toolkit.inputs import file_contents


def _files(tmp_path):
    lines = [record(f"{i},{i * 0.5},x{i % 3}", str(i % 2)) for i in range(300)]
    lines[17] = "not json"
    lines[40] = record(None, None)
    paths = []
    for index, chunk in enumerate((lines[:200], lines[200:], [])):
        path = tmp_path / f"{index:02d}.jsonl"
        path.write_text("".join(line + "\n" for line in chunk))
        paths.append(path)
    return paths


def _read(paths, part_bytes):
    reader = CaptureReader(names=["label", "a", "b", "c"], batch_rows=50)
    contents = list(file_contents(paths, None, part_bytes=part_bytes))
    frame = pl.concat([batch.frame for batch in reader.batches(contents)])
    return frame, reader.stats, contents


def test_parts_give_the_rows_and_counts_of_whole_files(tmp_path):
    paths = _files(tmp_path)
    whole, whole_stats, whole_contents = _read(paths, 1 << 30)
    parts, part_stats, part_contents = _read(paths, 1000)
    assert not any(isinstance(data, FilePart) for data in whole_contents)
    assert sum(isinstance(data, FilePart) for data in part_contents) > 10
    part_bytes = [data.data if isinstance(data, FilePart) else data for data in part_contents]
    assert all(data.endswith(b"\n") for data in part_bytes if data)
    assert b"".join(part_bytes) == b"".join(path.read_bytes() for path in paths)
    assert_frame_equal(parts, whole)
    assert whole.height == 298  # 300 lines, one not JSON, one without data
    assert part_stats == whole_stats
    assert whole_stats.files == 3 and whole_stats.lines == 300


def test_wide_records_are_batched_by_payload_text_with_a_floor_of_records(tmp_path, monkeypatch):
    from watchkeeper.capture import reader as R

    paths = _files(tmp_path)
    whole, whole_stats, _ = _read(paths, 1 << 30)
    monkeypatch.setattr(R, "BATCH_BYTES", 500)  # ~40 records of payload text
    monkeypatch.setattr(R, "WIDE_BATCH_MIN_ROWS", 120)
    monkeypatch.setattr(R, "COALESCE_BYTES", 1)  # each part parsed on its own, as large files' parts are
    reader = CaptureReader(names=["label", "a", "b", "c"], batch_rows=10_000)
    frames = [batch.frame for batch in reader.batches(file_contents(paths, None, part_bytes=2000))]
    heights = [frame.height for frame in frames]
    assert len(frames) > 1 and all(height >= 120 for height in heights[:-1]), heights
    assert_frame_equal(pl.concat(frames), whole)
    assert reader.stats == whole_stats

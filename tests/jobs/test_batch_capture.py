"""Batch-transform monitoring on capture laid out as AWS lays it: manifests under `input/` and `output/` hour
folders naming the transform's objects. The objects are analysed, never the manifests; objects that are not in
the dataset's format are named in the summary and the failure reason, never a library's message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchkeeper.capture.batch import OBJECTS_FOLDER
from watchkeeper.jobs.analyzers.data_quality import analyze, suggest_baseline
from watchkeeper.jobs.toolkit.summary import JobFailed

ROWS = [f"{20 + i % 30},{'ab'[i % 2]},{i % 7 * 1.5}" for i in range(60)]
CSV = {"csv": {"header": False}}
WINDOW = {"start_time": "2024-05-01T10:00:00Z", "end_time": "2024-05-01T11:00:00Z"}


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    write(tmp_path / "train.csv", "age,city,score\n" + "".join(row + "\n" for row in ROWS))
    suggest_baseline(tmp_path / "train.csv", tmp_path / "baseline", {"csv": {"header": True}})
    return tmp_path / "baseline"


def batch_capture(root: Path, hour: str = "2024/05/01/10") -> Path:
    """What the runner stages: `<DataCapturedDestinationS3Uri>` (input/ and output/ manifests, as a transform job
    writes them) at LocalPath, and the named objects under `_manifest_objects/<bucket>/<key>`."""
    write(root / "input" / hour / "8f1c.json",
          json.dumps([{"prefix": "s3://data/transform-input/"}, "part-0.csv", "part-1.csv"]))
    write(root / "output" / hour / "2b7e.json",
          json.dumps([{"prefix": "s3://data/transform-output/"}, "part-0.csv.out", "part-1.csv.out"]))
    objects = root / OBJECTS_FOLDER / "data"
    write(objects / "transform-input/part-0.csv", "".join(row + "\n" for row in ROWS[:40]))
    write(objects / "transform-input/part-1.csv", "".join(row + "\n" for row in ROWS[40:]))
    write(objects / "transform-output/part-0.csv.out", "0.5\n" * 40)
    write(objects / "transform-output/part-1.csv.out", "0.5\n" * 20)
    return root


def monitor(source: Path, out: Path, baseline: Path, **window):
    return analyze(source, out, CSV, baseline_statistics=baseline / "statistics.json",
                   baseline_constraints=baseline / "constraints.json", **window)


def test_manifests_are_followed_and_the_objects_analysed(tmp_path, baseline):
    summary = monitor(batch_capture(tmp_path / "input"), tmp_path / "report", baseline, **WINDOW)
    assert summary.item_count == 60  # the input objects' rows, not 2 manifests
    assert summary.violations == []
    assert summary.message == "Completed: Job completed successfully with no violations."
    assert [f["name"] for f in summary.statistics["features"]] == ["age", "city", "score"]


def test_manifests_outside_the_window_have_no_data(tmp_path, baseline):
    with pytest.raises(JobFailed, match=r"^Job inputs had no data"):
        monitor(batch_capture(tmp_path / "input"), tmp_path / "report", baseline,
                start_time="2024-05-01T11:00:00Z", end_time="2024-05-01T12:00:00Z")


def test_unstaged_objects_are_named_in_the_failure(tmp_path, baseline):
    source = batch_capture(tmp_path / "input")
    for path in sorted((source / OBJECTS_FOLDER).rglob("*.csv")):
        path.unlink()
    with pytest.raises(JobFailed) as failed:
        monitor(source, tmp_path / "report", baseline, **WINDOW)
    assert str(failed.value) == (
        "2 objects named by batch-capture manifests were not staged: s3://data/transform-input/part-0.csv, "
        "s3://data/transform-input/part-1.csv.")


def test_objects_that_are_not_csv_are_named(tmp_path, baseline):
    source = tmp_path / "input"
    write(source / "good.csv", "".join(row + "\n" for row in ROWS))
    write(source / "a.json", '{"age": 1, "city": "x"}\n' * 200)
    write(source / "b.bin", bytes(range(256)) * 64)
    summary = monitor(source, tmp_path / "report", baseline)
    assert summary.item_count == 60 and summary.violations == []
    assert summary.message.endswith(f" 2 objects under {source} are not CSV: a.json (JSON), b.bin (binary).")
    (source / "good.csv").unlink()
    with pytest.raises(JobFailed) as failed:
        monitor(source, tmp_path / "report", baseline)
    assert str(failed.value) == f"2 objects under {source} are not CSV: a.json (JSON), b.bin (binary)."
    assert "infer_schema_length" not in str(failed.value)

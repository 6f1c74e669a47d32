"""The ground-truth merge job: join by inferenceId else eventId, window, layout, counts, no labels."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.endpoint_helpers import capture_config
from watchkeeper.capture.records import CaptureConfig, encode_record
from watchkeeper.jobs.analyzers.ground_truth_merge import merge
from watchkeeper.jobs.toolkit.summary import JobFailed

CONFIG = CaptureConfig.from_data_capture_config(capture_config("s3://b/capture"))
T0 = 1_620_342_000.0  # 2021-05-06T23:00:00Z


def capture_line(i: int, *, inference_id: str | None, at: float) -> bytes:
    return encode_record(
        CONFIG,
        inference_time=at,
        input_body=f"{i},1,2",
        input_content_type="text/csv",
        output_body=f"0.{i}",
        output_content_type="text/csv",
        inference_id=inference_id,
        event_id=f"event-{i}",
    )


def label_line(key: str, label: str) -> bytes:
    return (
        orjson.dumps(
            {
                "groundTruthData": {"data": label, "encoding": "CSV"},
                "eventMetadata": {"eventId": key},
                "eventVersion": "0",
            }
        )
        + b"\n"
    )


def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    capture = tmp_path / "input_data" / "ep" / "AllTraffic" / "2021" / "05" / "06" / "22"
    truth = tmp_path / "groundtruth" / "2021" / "05" / "06" / "23"
    capture.mkdir(parents=True)
    truth.mkdir(parents=True)
    return capture, truth, tmp_path / "output"


def test_join_by_inference_id_else_event_id_within_the_window(tmp_path: Path) -> None:
    capture, truth, output = layout(tmp_path)
    lines = [capture_line(i, inference_id=f"inf-{i}" if i % 2 else None, at=T0 - 3600 + 60 * i) for i in range(10)]
    lines.append(capture_line(99, inference_id="inf-99", at=T0 + 10))  # after the window
    (capture / "00-00-000-a.jsonl").write_bytes(b"".join(lines) + b"not json\n")
    labels = [label_line(f"inf-{i}" if i % 2 else f"event-{i}", str(i % 2)) for i in range(8)]  # 8 of 10 labelled
    labels.append(label_line("inf-99", "1"))
    labels.append(label_line("event-1", "9"))  # event id of a record that has an inferenceId: must not match
    (truth / "labels.jsonl").write_bytes(b"".join(labels))

    summary = merge(
        tmp_path / "input_data",
        tmp_path / "groundtruth",
        output,
        start_time="2021-05-06T22:00:00Z",
        end_time="2021-05-06T23:00:00Z",
    )
    assert (summary.captured, summary.merged, summary.unreadable) == (10, 8, 1)
    (part,) = (output / "ep" / "AllTraffic" / "2021" / "05" / "06" / "22").glob("part-00000-*.c000.jsonl")
    records = [orjson.loads(line) for line in part.read_bytes().splitlines()]
    assert list(records[0]) == ["eventVersion", "groundTruthData", "captureData", "eventMetadata"]
    by_input = {r["captureData"]["endpointInput"]["data"].split(",")[0]: r for r in records}
    assert sorted(by_input, key=int) == [str(i) for i in range(8)]
    assert by_input["1"]["groundTruthData"] == {"data": "1", "encoding": "CSV"}
    assert by_input["1"]["eventMetadata"]["inferenceId"] == "inf-1"
    assert by_input["2"]["groundTruthData"]["data"] == "0"
    assert summary.message == (
        "Completed: Merged 8 of 10 captured inferences with ground truth. 1 line could not be parsed (1 capture)."
    )


def test_no_labels_fails_with_the_reason(tmp_path: Path) -> None:
    capture, _, output = layout(tmp_path)
    (capture / "f.jsonl").write_bytes(capture_line(1, inference_id="a", at=T0 - 100))
    with pytest.raises(JobFailed, match="Job inputs had no data: none of the 1 captured inferences"):
        merge(tmp_path / "input_data", tmp_path / "groundtruth", output)
    with pytest.raises(JobFailed, match="no captured inferences in the window"):
        merge(tmp_path / "input_data", tmp_path / "groundtruth", output, start_time="2030-01-01T00:00:00Z")

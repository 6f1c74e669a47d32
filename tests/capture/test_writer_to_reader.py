"""What the writer stores, the capture reader (the analyzer's input) reads back, row for row."""

from __future__ import annotations

from pathlib import Path

from watchkeeper.capture.reader import CaptureReader
from watchkeeper.capture.records import SDK_CSV_CONTENT_TYPES, SDK_JSON_CONTENT_TYPES, CaptureConfig
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.clock import FakeClock
from watchkeeper.storage import LocalObjectStore


def test_captured_rows_are_read_back(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3")
    config = CaptureConfig("s3://b/capture", csv_content_types=SDK_CSV_CONTENT_TYPES,
                           json_content_types=SDK_JSON_CONTENT_TYPES)
    clock = FakeClock(1_714_568_700.0)  # 2024-05-01T13:05:00Z
    with CaptureWriter(store, clock=clock) as writer:
        for i in range(300):
            writer.capture(config, "churn", "AllTraffic", input_body=f"{i},{i * 2},x".encode(),
                           input_content_type="text/csv", output_body=f"0.{i}".encode(),
                           output_content_type="text/csv; charset=utf-8", inference_id=str(i),
                           custom_attributes="trace=1")
            clock.advance(30)  # spans three hours
    reader = CaptureReader(start="2024-05-01T13:00:00Z", end="2024-05-01T14:00:00Z")
    files = [store.get_bytes(o.uri) for o in store.list("s3://b/capture/churn/AllTraffic/2024/05/01/")]
    assert len(files) == 3
    (batch,) = list(reader.batches(files))
    rows = batch.frame.rows()
    assert len(rows) == 110  # 13:05:00 … 13:59:30, every 30 s
    assert rows[0] == ("0.0", "0", "0", "x")
    assert rows[-1] == ("0.109", "109", "218", "x")
    assert reader.stats.out_of_window == 190 and not reader.stats.bad

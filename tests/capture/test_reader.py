"""Capture files into columns (spec §3.3, §4.6): output columns first, baseline names by position,
CSV/JSON/BASE64 payloads, the [start, end) window, and bad records counted rather than fatal."""

from __future__ import annotations

import base64
import json

import pytest

from watchkeeper.capture import reader as R
from watchkeeper.capture.reader import CaptureReader


def record(inp=None, out=None, *, time="2022-03-24T00:23:04Z", enc_in="CSV", enc_out="CSV",
           ct_in="text/csv", ct_out="text/csv; charset=utf-8", source=None) -> str:
    data = {}
    if inp is not None:
        data["endpointInput"] = {"observedContentType": ct_in, "mode": "INPUT", "data": inp, "encoding": enc_in}
    if out is not None:
        data["endpointOutput"] = {"observedContentType": ct_out, "mode": "OUTPUT", "data": out,
                                  "encoding": enc_out}
    metadata = {"eventId": "e", "inferenceTime": time}
    if source:
        metadata["invocationSource"] = source
    return json.dumps({"captureData": data, "eventMetadata": metadata, "eventVersion": "0"},
                      separators=(",", ":"))


def read(lines, **options):
    reader = CaptureReader(**options)
    batches = list(reader.batches([("\n".join(lines) + "\n").encode()]))
    frames = [b.frame for b in batches]
    return (frames[0] if frames else None), reader.stats


def test_output_columns_come_first_with_baseline_names():
    frame, stats = read([record("130,0,263.7", "0.37"), record("1,2,3", "0.9")],
                        names=["Churn", "Account Length", "VMail Message", "Day Mins"])
    assert frame.columns == ["Churn", "Account Length", "VMail Message", "Day Mins"]
    assert frame.row(0) == ("0.37", "130", "0", "263.7")
    assert stats.rows == 2 and not stats.bad


def test_without_baseline_columns_are_c0_and_output_last_with_end():
    frame, _ = read([record("1,2", "0.5")], output_first=False)
    assert frame.columns == ["_c0", "_c1", "_c2"]
    assert frame.row(0) == ("1", "2", "0.5")


def test_only_the_selected_capture_side():
    frame, _ = read([record("1,2", "0.5")], indices=["endpointInput"])
    assert frame.row(0) == ("1", "2")


def test_json_and_base64_payloads():
    lines = [
        record('{"a": 1, "b": 2.5, "c": "x"}', "0.1", enc_in="JSON", ct_in="application/json"),
        record(base64.b64encode(b"3,4.5,y").decode(), "0.2", enc_in="BASE64", ct_in="text/csv"),
        record(base64.b64encode(b'{"a": 5, "b": 6, "c": "z"}').decode(), "0.3", enc_in="BASE64",
               ct_in="application/json"),
        record("[7, 8, 9]", "0.4", enc_in="JSON"),
    ]
    frame, stats = read(lines)
    assert frame.rows() == [("0.1", "1", "2.5", "x"), ("0.2", "3", "4.5", "y"), ("0.3", "5", "6", "z"),
                            ("0.4", "7", "8", "9")]
    assert not stats.bad


def test_bad_records_are_counted_by_reason_not_fatal():
    lines = [
        record("1,2", "0.5"),
        "this is not json",
        '{"captureData": "oops"',
        record(None, None),
        record("!!!not base64!!!", "0.5", enc_in="BASE64"),
        record(base64.b64encode(b"\xff\xfe").decode(), "0.5", enc_in="BASE64"),
        record('{"instances": [[1, 2]]}', "0.5", enc_in="JSON"),
        record("1,2\n3,4", "0.5"),
        record("1", "0.5"),
    ]
    frame, stats = read(lines)
    assert frame.height == 2  # the good record and the short one (padded, like Spark)
    assert frame.row(1) == ("0.5", "1", None)
    assert stats.bad == {
        R.UNPARSEABLE: 2, R.NO_DATA: 1, R.BAD_BASE64: 2, R.NESTED_JSON: 1, R.MULTI_LINE: 1, R.WRONG_WIDTH: 1,
    }
    assert stats.lines == 9


def test_window_is_start_inclusive_end_exclusive():
    lines = [record("1", "0", time=t) for t in (
        "2022-03-24T00:59:59Z", "2022-03-24T01:00:00Z", "2022-03-24T01:30:00.5Z", "2022-03-24T02:00:00Z",
        "not a time")]
    frame, stats = read(lines, start="2022-03-24T01:00:00Z", end="2022-03-24T02:00:00Z")
    assert frame.height == 2
    assert stats.out_of_window == 2
    assert stats.bad == {R.NO_TIME: 1}


def test_without_window_every_record_counts():
    frame, stats = read([record("1", "0", time="1999-01-01T00:00:00Z"), record("2", "0")])
    assert frame.height == 2 and stats.out_of_window == 0


def test_shadow_variant_records_are_skipped():
    frame, stats = read([record("1", "0"), record("2", "0", source="ShadowExperiment")])
    assert frame.height == 1 and stats.shadow == 1


def test_files_accumulate_into_batches(monkeypatch):
    import watchkeeper.capture.reader as capture_reader

    monkeypatch.setattr(capture_reader, "COALESCE_BYTES", 1)  # every file read on its own
    reader = CaptureReader(batch_rows=3)
    files = [(record("1", "0") + "\n").encode() for _ in range(7)]
    batches = list(reader.batches(files))
    assert [b.frame.height for b in batches] == [3, 3, 1]
    assert reader.stats.files == 7


def test_small_files_are_read_together_and_still_counted_one_by_one():
    reader = CaptureReader(batch_rows=3)
    files = [record(str(i), "0").encode() for i in range(7)]  # no final newline: one is added between files
    batches = list(reader.batches(files))
    assert [b.frame.height for b in batches] == [7]
    assert batches[0].frame.get_column("_c1").to_list() == [str(i) for i in range(7)]
    assert reader.stats.files == 7 and reader.stats.lines == 7


def test_invalid_window_time():
    with pytest.raises(ValueError, match="ISO-8601"):
        CaptureReader(start="yesterday")


def test_json_objects_with_a_missing_key_give_an_empty_field():
    lines = [record('{"a": 1, "b": 2}', "0.1", enc_in="JSON"), record('{"a": 3}', "0.2", enc_in="JSON")]
    frame, stats = read(lines)
    assert frame.rows() == [("0.1", "1", "2"), ("0.2", "3", None)]
    assert not stats.bad

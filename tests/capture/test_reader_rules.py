"""The one reader's rules (capture/): hour paths, the window rule with shadow traffic, payload decoding,
batch-capture manifests and objects that are not in the dataset's format."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from watchkeeper.capture import batch, hours, payloads, window
from watchkeeper.capture.window import parse_time

# ------------------------------------------------------------------------------------------- hours


def test_hour_path_of_epoch_and_datetimes():
    assert hours.hour_path(0) == "1970/01/01/00"
    assert hours.hour_path(1648081384.9) == "2022/03/24/00"
    assert hours.hour_path(datetime(2022, 8, 26, 13, 59, 59, tzinfo=UTC)) == "2022/08/26/13"
    assert hours.hour_path(datetime(2022, 8, 26, 13)) == "2022/08/26/13"  # naive is UTC


def test_hour_object_uri_and_expr_and_hour_in_path():
    uri = hours.hour_object_uri("s3://b/p/", 1648081384.9)
    assert uri.startswith("s3://b/p/2022/03/24/00/23-04-900-") and uri.endswith(".jsonl")
    frame = pl.DataFrame({"t": ["2022-03-24T00:23:04Z", "2022-12-31T23:59:59.5Z", "nope", None]})
    assert frame.select(hours.hour_path_expr(pl.col("t"))).to_series().to_list() == [
        "2022/03/24/00", "2022/12/31/23", None, None]
    assert hours.hour_in_path("cap/input/2022/08/26/13/m.json") == datetime(2022, 8, 26, 13, tzinfo=UTC)
    assert hours.hour_in_path("cap/input/m.json") is None


# ------------------------------------------------------------------------------------------- window


def test_window_rule_with_shadow_traffic():
    times = pl.Series(["2024-05-01T10:00:00Z", "2024-05-01T10:59:59Z", "2024-05-01T11:00:00Z",
                       "2024-05-01T09:59:59Z", "garbage", "2024-05-01T10:30:00Z", None])
    sources = pl.Series([None, "", None, None, None, "ShadowExperiment", "ShadowExperiment"])
    start, end = parse_time("2024-05-01T10:00:00Z"), parse_time("2024-05-01T11:00:00Z")
    keep, counts = window.window_mask(times, sources, start, end)
    assert keep.to_list() == [True, True, False, False, False, False, False]
    # shadow records count as shadow only, whatever their time; end is exclusive; bad time is bad
    assert (counts.shadow, counts.outside, counts.no_time) == (2, 2, 1)
    # without a window, only shadow traffic is left out; without a source field nothing is shadow
    keep, counts = window.window_mask(times, sources, None, None)
    assert keep.sum() == 5 and counts.shadow == 2 and counts.no_time == 0
    keep, counts = window.window_mask(times, None, start, end)
    assert keep.sum() == 3 and counts.shadow == 0


def test_times_are_instants_not_text():
    times = pl.Series(["2024-05-01T12:30:00+02:00", "2024-05-01T10:30:00.123456Z"])
    keep, _ = window.window_mask(times, None, parse_time("2024-05-01T10:00:00Z"), parse_time("2024-05-01T11:00:00Z"))
    assert keep.to_list() == [True, True]


def test_hour_overlaps():
    at = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert window.hour_overlaps(at, parse_time("2024-05-01T10:59:00Z"), parse_time("2024-05-01T12:00:00Z"))
    assert not window.hour_overlaps(at, parse_time("2024-05-01T11:00:00Z"), None)
    assert not window.hour_overlaps(at, None, parse_time("2024-05-01T10:00:00Z"))
    assert window.hour_overlaps(at, None, None)


# ------------------------------------------------------------------------------------------- payloads


def side(data, encoding, content_type=None):
    return pl.DataFrame({"data": data, "encoding": encoding, "observedContentType": content_type},
                        schema={"data": pl.String, "encoding": pl.String, "observedContentType": pl.String})


def test_each_encoding_decodes():
    b64 = base64.b64encode
    decoded = payloads.decode(side(
        ["1,2", '{"a": 1}', b64(b"3,4").decode(), b64(b'{"b": 2}').decode(), "!!!", b64(b"\xff\xfe").decode(), None],
        ["CSV", "JSON", "BASE64", "base64", "BASE64", "BASE64", "CSV"],
        ["text/csv", "application/json", "text/csv", "application/json", "text/csv", "text/csv", None]))
    assert decoded.text.to_list() == ["1,2", '{"a": 1}', "3,4", '{"b": 2}', None, None, None]
    assert decoded.is_json.to_list() == [False, True, False, True, False, False, False]
    assert decoded.bad_base64.to_list() == [False, False, False, False, True, True, False]


def test_side_text_flattens_json_and_counts_losses():
    lost = {}
    text, failed = payloads.side_text(
        side(['{"a": 1, "b": "x"}', "[1, 2]", '{"a": {"n": 1}}', "5,6\n", "%%"],
             ["JSON", "JSON", "JSON", "CSV", "BASE64"]),
        lambda reason, n: lost.__setitem__(reason, lost.get(reason, 0) + n))
    assert text.to_list()[:2] == ["1,x", "1,2"] and text[3] == "5,6"
    assert failed.to_list() == [False, False, True, False, True]
    assert lost == {payloads.NESTED_JSON: 1, payloads.BAD_BASE64: 1}


# ------------------------------------------------------------------------------------------- batch


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def aws_batch_capture(root: Path, hour: str = "2024/05/01/10") -> Path:
    """`<dest>/input|output/yyyy/mm/dd/hh/<manifest>` as a transform job writes them, and the objects they
    name staged under `_manifest_objects/<bucket>/<key>`."""
    dest = root / "capture"
    write(dest / "input" / hour / "a1b2.json",
          json.dumps([{"prefix": "s3://data/transform-input/"}, "part-0.csv", "sub/part-1.csv"]))
    write(dest / "output" / hour / "c3d4.json",
          json.dumps([{"prefix": "s3://data/transform-output/"}, "part-0.csv.out", "sub/part-1.csv.out"]))
    objects = dest / batch.OBJECTS_FOLDER / "data"
    write(objects / "transform-input/part-0.csv", "1,2\n3,4\n")
    write(objects / "transform-input/sub/part-1.csv", "5,6\n")
    write(objects / "transform-output/part-0.csv.out", "0.1\n0.2\n")
    write(objects / "transform-output/sub/part-1.csv.out", "0.3\n")
    return dest


def test_manifest_format():
    assert batch.parse_manifest(b'[{"prefix": "s3://b/p/"}, "x.csv", "y/z.csv"]') == ("s3://b/p/", ("x.csv", "y/z.csv"))
    assert batch.parse_manifest(b'[{"prefix": "s3://b/p/"}]') == ("s3://b/p/", ())
    for not_one in (b"1,2\n", b"[1, 2]", b'[{"prefix": "/local"}, "x"]', b'[{"prefix": "s3://b/"}, 3]', b"[", b"[]"):
        assert batch.parse_manifest(not_one) is None


def test_input_manifests_are_followed(tmp_path):
    dest = aws_batch_capture(tmp_path)
    selection = batch.select_inputs(dest, "csv")
    assert [selection.name(p) for p in selection.files] == [
        "s3://data/transform-input/part-0.csv", "s3://data/transform-input/sub/part-1.csv"]
    assert selection.manifests == 2 and not selection.notes("csv", "x")
    # the output side when asked first (or when there are no input manifests)
    selection = batch.select_inputs(dest, "csv", sides=("output", "input"))
    assert [p.name for p in selection.files] == ["part-0.csv.out", "part-1.csv.out"]


def test_manifests_outside_the_window_are_not_followed(tmp_path):
    dest = aws_batch_capture(tmp_path, "2024/05/01/10")
    inside = batch.select_inputs(dest, "csv", start=parse_time("2024-05-01T10:00:00Z"),
                                 end=parse_time("2024-05-01T11:00:00Z"))
    assert len(inside.files) == 2 and inside.outside_window == 0
    later = batch.select_inputs(dest, "csv", start=parse_time("2024-05-01T11:00:00Z"),
                                end=parse_time("2024-05-01T12:00:00Z"))
    assert later.files == [] and later.outside_window == 2


def test_unstaged_objects_and_stray_files_are_named(tmp_path):
    dest = aws_batch_capture(tmp_path)
    (dest / batch.OBJECTS_FOLDER / "data/transform-input/sub/part-1.csv").unlink()
    write(dest / "input/2024/05/01/10/notes.txt", "hello\n")
    selection = batch.select_inputs(dest, "csv")
    assert len(selection.files) == 1
    notes = selection.notes("csv", "/opt/ml/processing/input")
    assert notes == [
        "1 object named by batch-capture manifests was not staged: s3://data/transform-input/sub/part-1.csv.",
        "1 file beside the batch-capture manifests is not a manifest and was not analysed: "
        "input/2024/05/01/10/notes.txt.",
    ]


def test_objects_not_in_the_format_are_named(tmp_path):
    write(tmp_path / "in/ok.csv", "1,2\n")
    write(tmp_path / "in/a.json", '{"x": 1}\n')
    write(tmp_path / "in/b.bin", bytes(range(256)) * 4)
    write(tmp_path / "in/c.csv", "é,1\n".encode("latin-1"))
    selection = batch.select_inputs(tmp_path / "in", "csv")
    assert [p.name for p in selection.files] == ["ok.csv"]
    assert selection.notes("csv", "/opt/ml/processing/input") == [
        "3 objects under /opt/ml/processing/input are not CSV: a.json (JSON), b.bin (binary), "
        "c.csv (not UTF-8 text)."]
    json_selection = batch.select_inputs(tmp_path / "in", "json")
    assert [p.name for p in json_selection.files] == ["a.json"]

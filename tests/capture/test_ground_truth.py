"""Ground truth: the Python function and `watchkeeper ground-truth put`, on both stores."""

from __future__ import annotations

import calendar
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_store
from watchkeeper.capture.ground_truth import GroundTruth, LabelError, put_ground_truth, read_labels
from watchkeeper.cli import main
from watchkeeper.clock import FakeClock
from watchkeeper.storage import LocalObjectStore

DEST = "s3://bucket/ground-truth"
FILE_RE = re.compile(r"s3://bucket/ground-truth/(\d{4}/\d\d/\d\d/\d\d)/\d\d-\d\d-\d{3}-[0-9a-f-]{36}\.jsonl")


def utc(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))


def read_all(store, prefix: str = DEST) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def]
    found = {}
    for o in store.list(f"{prefix}/"):
        found[o.uri] = [orjson.loads(x) for x in store.get_bytes(o.uri).splitlines()]
    return found


def test_records_are_in_aws_format(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3")
    clock = FakeClock(utc("2024-05-01T13:05:00"))
    uris = put_ground_truth(
        store,
        DEST,
        [
            {"inferenceId": "0", "label": 1},
            {"eventId": "8392b2fb-3d14-499b-ba5f-a0de41673823", "label": "yes"},
            {"inferenceId": 7, "label": {"instances": [{"label": 0}]}},
            {"inferenceId": "a", "label": 0.25},
            {"inferenceId": "b", "label": True},
            {"inferenceId": "c", "label": "x,\"y\""},
            {"inferenceId": "d", "data": "0,1", "encoding": "CSV"},
            GroundTruth("e", '{"label": 1}', "JSON"),
            {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "f"},
             "eventVersion": "0"},
        ],
        clock=clock,
    )
    (uri,) = uris
    assert FILE_RE.fullmatch(uri).group(1) == "2024/05/01/13"  # type: ignore[union-attr]
    raw = store.get_bytes(uri).splitlines()
    assert raw[0] == (
        b'{"groundTruthData":{"data":"1","encoding":"CSV"},"eventMetadata":{"eventId":"0"},"eventVersion":"0"}'
    )
    records = [orjson.loads(x) for x in raw]
    assert [(r["eventMetadata"]["eventId"], r["groundTruthData"]["data"], r["groundTruthData"]["encoding"])
            for r in records] == [
        ("0", "1", "CSV"),
        ("8392b2fb-3d14-499b-ba5f-a0de41673823", "yes", "CSV"),
        ("7", '{"instances":[{"label":0}]}', "JSON"),
        ("a", "0.25", "CSV"),
        ("b", "true", "CSV"),
        ("c", '"x,""y"""', "CSV"),
        ("d", "0,1", "CSV"),
        ("e", '{"label": 1}', "JSON"),
        ("f", "1", "CSV"),
    ]
    assert all(r["eventVersion"] == "0" for r in records)


def test_hour_layout_follows_the_label_time(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3")
    clock = FakeClock(utc("2024-05-02T00:30:00"))
    put_ground_truth(
        store,
        DEST + "/",
        [
            {"inferenceId": "1", "label": 1, "time": "2024-05-01T13:05:00Z"},
            {"inferenceId": "2", "label": 0, "time": "2024-05-01T13:59:59+00:00"},
            {"inferenceId": "3", "label": 0, "time": "2024-05-01T15:00:00+02:00"},  # 13:00 UTC
            {"inferenceId": "4", "label": 1, "time": utc("2024-05-01T23:10:00")},
            {"inferenceId": "5", "label": 1, "time": "2024-05-01T22:00:00"},  # no offset: UTC
            {"inferenceId": "6", "label": 1},  # now
        ],
        clock=clock,
    )
    by_hour = {FILE_RE.fullmatch(u).group(1): [r["eventMetadata"]["eventId"] for r in rs]  # type: ignore[union-attr]
               for u, rs in read_all(store).items()}
    assert by_hour == {
        "2024/05/01/13": ["1", "2", "3"],
        "2024/05/01/22": ["5"],
        "2024/05/01/23": ["4"],
        "2024/05/02/00": ["6"],
    }
    # The file name carries the earliest label time in it.
    names = sorted(u.rsplit("/", 1)[1][:9] for u in read_all(store))
    assert names == ["00-00-000", "00-00-000", "10-00-000", "30-00-000"]


def test_large_uploads_are_split(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3")
    labels = [{"inferenceId": f"{i:05d}", "label": i % 2} for i in range(1000)]
    uris = put_ground_truth(store, DEST, labels, max_object_bytes=10_000)
    assert len(uris) > 5
    written = [r["eventMetadata"]["eventId"] for u in uris for r in read_all(store)[u]]
    assert written == [f"{i:05d}" for i in range(1000)]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"label": 1}, "needs 'inferenceId'"),
        ({"inferenceId": "1"}, "needs 'label'"),
        ({"inferenceId": "", "label": 1}, "non-empty"),
        ({"inferenceId": None, "label": 1}, "must be a string"),
        ({"inferenceId": "1", "label": None}, "null"),
        ({"inferenceId": "1", "eventId": "2", "label": 1}, "differ"),
        ({"inferenceId": "1", "label": 1, "time": "yesterday"}, "not ISO-8601"),
        ({"inferenceId": "1", "data": "x", "encoding": "BASE64"}, "CSV or JSON"),
        ({"inferenceId": "1", "data": 5}, "must be a string"),
        ({"groundTruthData": {"data": "1"}}, "eventMetadata"),
    ],
)
def test_bad_records_write_nothing(tmp_path: Path, record: dict, message: str) -> None:
    store = LocalObjectStore(tmp_path / "s3")
    with pytest.raises(LabelError, match=message):
        put_ground_truth(store, DEST, [{"inferenceId": "ok", "label": 1}, record])
    assert read_all(store) == {}


def test_read_labels_names_the_line() -> None:
    lines = [b'{"inferenceId":"1","label":1}\n', b"\n", b'{"eventId":"2","label":0}']
    assert [g.event_id for g in read_labels(lines)] == ["1", "2"]
    with pytest.raises(LabelError, match=r"labels.jsonl line 3: not valid JSON"):
        read_labels([b'{"inferenceId":"1","label":1}', b"", b"{oops"], "labels.jsonl")
    with pytest.raises(LabelError, match=r"line 1: expected a JSON object"):
        read_labels([b"[1, 2]"])


def test_cli_with_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"inferenceId": "1", "label": 1}\n{"inferenceId": "2", "label": 0}\n')
    with pytest.raises(SystemExit) as exit_:
        main(["ground-truth", "put", "--destination", DEST, "--file", str(labels),
              "--data-dir", str(tmp_path / "d")])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "wrote 2 ground-truth records in 1 objects" in out
    found = read_all(LocalObjectStore(tmp_path / "d" / "s3"))
    assert [r["eventMetadata"]["eventId"] for rs in found.values() for r in rs] == ["1", "2"]
    assert next(iter(found)) in out


def test_cli_reports_bad_input_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"inferenceId": "1", "label": 1}\n{"inferenceId": "2"}\n')
    args = ["ground-truth", "put", "--destination", DEST, "--file", str(labels),
            "--data-dir", str(tmp_path / "d")]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert f"{labels} line 2: needs 'label'" in capsys.readouterr().err
    assert not (tmp_path / "d" / "s3" / "bucket").exists()
    with pytest.raises(SystemExit) as exit_:
        main([*args[:3], "bucket/no-scheme", *args[4:]])
    assert exit_.value.code == 2
    assert "must start with 's3://'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main([*args[:5], str(tmp_path / "missing.jsonl"), *args[6:]])
    assert exit_.value.code == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_as_a_user_runs_it_against_s3(s3_endpoint: str, tmp_path: Path) -> None:
    """The installed command, configured by environment, reading labels from stdin, writing to S3."""
    store, bucket = s3_store(s3_endpoint)
    env = {
        **os.environ,
        "WATCHKEEPER_S3_ENDPOINT_URL": s3_endpoint,
        "WATCHKEEPER_S3_REGION": REGION,
        "WATCHKEEPER_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "WATCHKEEPER_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "WATCHKEEPER_DATA_DIR": str(tmp_path / "unused"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "watchkeeper", "ground-truth", "put", "--destination", f"s3://{bucket}/gt",
         "--file", "-"],
        input=b'{"inferenceId": "1", "label": 1, "time": 1714568700}\n',
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    (info,) = store.list(f"s3://{bucket}/gt/")
    assert info.uri.startswith(f"s3://{bucket}/gt/2024/05/01/13/05-00-000-")
    assert orjson.loads(store.get_bytes(info.uri)) == {
        "groundTruthData": {"data": "1", "encoding": "CSV"},
        "eventMetadata": {"eventId": "1"},
        "eventVersion": "0",
    }
    assert not (tmp_path / "unused").exists()

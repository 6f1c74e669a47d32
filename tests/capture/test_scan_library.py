"""The compiled capture pass's library (`capture/scan_library.py`): built once into a private cache folder,
refused from a folder others can write to, and never needed: without it a job reads by the polars pass and
writes the same statistics."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import watchkeeper.capture.reader as reader_module
import watchkeeper.capture.scan_library as library
from tests.capture.test_direct import json_line, line, require_compiled_pass
from watchkeeper.jobs.analyzers.data_quality import analyze
from watchkeeper.jobs.toolkit.job_log import JobLog


@pytest.fixture
def fresh_library(monkeypatch, tmp_path):
    """The library loaded anew, built into an empty cache folder."""
    monkeypatch.setattr(library, "_loaded", [])
    monkeypatch.setattr(library, "_failed_builds", {})
    monkeypatch.setattr(library, "_warned", set())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "watchkeeper"


def test_built_once_into_a_private_folder(fresh_library):
    require_compiled_pass()
    assert library.functions() is not None
    built = list(fresh_library.glob("scan-*.so"))
    assert len(built) == 1 and fresh_library.stat().st_mode & 0o777 == 0o700
    assert not list(fresh_library.glob(".scan-*"))  # no partial file left behind
    library._loaded.clear()
    assert library.functions() is not None and list(fresh_library.glob("scan-*.so")) == built


def _folder_of(descriptor: int) -> Path:
    try:
        return Path(os.readlink(f"/proc/self/fd/{descriptor}"))
    finally:
        os.close(descriptor)


def test_a_folder_others_can_write_to_or_a_link_is_refused(fresh_library, monkeypatch, tmp_path):
    fresh_library.mkdir(parents=True)
    fresh_library.chmod(0o777)
    monkeypatch.setattr(library.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    fallback = tmp_path / "tmp" / f"watchkeeper-{os.getuid()}"
    assert _folder_of(library._private_folder()) == fallback
    fallback.chmod(0o777)
    with pytest.raises(PermissionError, match="writable by others"):
        library._private_folder()
    # a link in the folder's place is never followed, even to a private folder of this user's
    fallback.rmdir()
    (tmp_path / "mine").mkdir(mode=0o700)
    fallback.symlink_to(tmp_path / "mine")
    with pytest.raises(PermissionError, match="no private cache folder"):
        library._private_folder()


def test_a_library_that_is_a_link_or_writable_by_others_is_refused(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / "real.so").write_bytes(b"x")
    (folder / "real.so").chmod(0o600)
    os.close(library._checked(folder, "real.so"))
    (folder / "link.so").symlink_to(folder / "real.so")
    with pytest.raises(OSError):
        library._checked(folder, "link.so")
    (folder / "real.so").chmod(0o666)
    with pytest.raises(PermissionError, match="not a private regular file"):
        library._checked(folder, "real.so")


def test_no_compiler_means_no_library_and_a_warning(fresh_library, monkeypatch, caplog):
    monkeypatch.setenv("CC", str(fresh_library / "no-such-compiler"))
    assert library.functions() is None
    assert "not available" in caplog.text


def test_turned_off_by_the_environment(fresh_library, monkeypatch):
    monkeypatch.setenv("WATCHKEEPER_COMPILED_SCAN", "0")
    assert library.functions() is None and not fresh_library.exists()


def _capture(folder: Path, json_payload: bool) -> None:
    """1.5-2 MB of capture records in one file (a piece large enough for the compiled pass), a few of them
    dirty, with times across two hours."""
    records = []
    for i in range(6000):
        time = f'"eventId":"e{i}","inferenceTime":"2024-05-01T{12 + i % 2}:{i % 60:02d}:00Z"'
        if json_payload:
            value = '\\"n/a\\"' if i % 97 == 0 else str(i % 50)
            body = f'{{\\"a\\":{i / 7:.5f},\\"b\\":{value},\\"c\\":\\"{"xyz"[i % 3]}\\",\\"d\\":{i % 2 == 0}}}'
            records.append(json_line(body.replace("True", "true").replace("False", "false"), output=f"0.{i}",
                                     metadata=time))
        else:
            records.append(line(f"{i / 7:.5f},{'n/a' if i % 97 == 0 else i % 50},{'xyz'[i % 3]}", f"0.{i}",
                                metadata=time))
    folder.mkdir(parents=True)
    (folder / "capture.jsonl").write_text("\n".join(records) + "\n")


@pytest.mark.parametrize("json_payload", [False, True], ids=["CSV payloads", "JSON payloads"])
def test_a_job_writes_the_same_statistics_with_and_without_it(json_payload, tmp_path, monkeypatch):
    require_compiled_pass()
    _capture(tmp_path / "capture", json_payload)
    assert (tmp_path / "capture" / "capture.jsonl").stat().st_size >= 1 << 20
    outputs = {}
    for compiled in ("1", "0"):
        monkeypatch.setenv("WATCHKEEPER_COMPILED_SCAN", compiled)
        out = tmp_path / f"out-{compiled}"
        with monkeypatch.context() as patch:
            if compiled == "1":  # every line is of the layout: the compiled pass reads them all
                patch.setattr(reader_module, "split_piece", lambda *args: pytest.fail("the polars pass was taken"))
            analyze(tmp_path / "capture", out, start_time="2024-05-01T12:00:00Z", end_time="2024-05-01T13:00:00Z",
                    log=JobLog(io.StringIO()))
        outputs[compiled] = {name: json.loads((out / name).read_text())
                             for name in ("statistics.json", "constraints.json")}
    assert outputs["1"] == outputs["0"]
    assert outputs["1"]["statistics.json"]["dataset"]["item_count"] == 3000


def test_a_job_loads_only_the_library_the_runner_gave(fresh_library, monkeypatch, tmp_path):
    """In a processing job (WATCHKEEPER_JOB_ROOT set) nothing is built: without WATCHKEEPER_SCAN_LIBRARY the
    polars pass reads; with it, that file is loaded."""
    require_compiled_pass()
    built = tmp_path / "given.so"
    assert library.copy_library(built)
    library._loaded.clear()
    monkeypatch.setenv("WATCHKEEPER_JOB_ROOT", str(tmp_path))
    assert library.functions() is None
    library._loaded.clear()
    monkeypatch.setenv("WATCHKEEPER_SCAN_LIBRARY", str(built))
    assert library.functions() is not None


def test_the_runner_hands_its_build_to_a_builtin_job_only(fresh_library, tmp_path):
    from watchkeeper.jobs.contract import JobRoot
    from watchkeeper.jobs.scan_binding import SCAN_LIBRARY_FILE, bind_scan_library

    require_compiled_pass()
    root = JobRoot(tmp_path / "job")
    root.prepare({"ProcessingJobName": "j"}, "arn:aws:sagemaker:us-east-1:1:processing-job/j")
    environment = {"WATCHKEEPER_SCAN_LIBRARY": "/opt/ml/processing/input/mine.so", "x": "1"}
    bind_scan_library(root, environment, builtin=False)
    assert environment == {"x": "1"} and not root.local(SCAN_LIBRARY_FILE).exists()
    bind_scan_library(root, environment, builtin=True)
    assert environment == {"x": "1", "WATCHKEEPER_SCAN_LIBRARY": SCAN_LIBRARY_FILE}
    copy = root.local(SCAN_LIBRARY_FILE)
    assert library.copy_library(tmp_path / "again.so") and (tmp_path / "again.so").read_bytes() == copy.read_bytes()
    assert copy.stat().st_mode & 0o777 == 0o644


def test_a_split_holds_its_own_values_not_the_piece(monkeypatch):
    """Values over 12 bytes are copied out of the piece: a window that keeps a few rows of many large pieces
    holds those rows, not the pieces."""
    import sys

    from watchkeeper.capture.direct import first_line, layout_of
    from watchkeeper.capture.direct_scan import scan_piece
    from watchkeeper.capture.window import parse_time

    require_compiled_pass()
    data = ("\n".join(line(f"{i},a-long-text-value-{i:06d},x", metadata=f'"eventId":"e","inferenceTime":'
                           f'"2024-05-01T{i % 24:02d}:00:00Z"') for i in range(200)) + "\n").encode()
    layout = layout_of(first_line(data), ["endpointInput", "endpointOutput"], True)
    before = sys.getrefcount(data)
    split = scan_piece(data, layout, ["o", "a", "b", "c"], parse_time("2024-05-01T05:00:00Z"),
                       parse_time("2024-05-01T06:00:00Z"))
    assert split is not None and sys.getrefcount(data) == before
    assert split.frame.get_column("b").to_list()[:2] == ["a-long-text-value-000005", "a-long-text-value-000029"]


def test_a_failed_build_is_not_tried_again_for_every_job(fresh_library, monkeypatch, tmp_path, caplog):
    """A compiler that cannot build the source: the runner's copy fails, once built, then at once, with one
    warning; the job still runs by the polars pass."""
    calls = tmp_path / "calls"
    broken = tmp_path / "broken-cc"
    broken.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n[ "$1" = --version ] && echo broken 1.0 && exit 0\n'
                      'echo "error: no" >&2\nexit 1\n')
    broken.chmod(0o755)
    monkeypatch.setenv("CC", str(broken))
    assert not library.copy_library(tmp_path / "a.so") and not library.copy_library(tmp_path / "b.so")
    builds = [line for line in calls.read_text().splitlines() if not line.startswith("--version")]
    assert len(builds) == 1 and caplog.text.count("not available") == 1
    assert not (tmp_path / "a.so").exists() and not (tmp_path / "b.so").exists()

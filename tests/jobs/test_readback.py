"""What the server reads back from a job's folder after the job, tried as a hostile job would, through the real
server and runner (with bubblewrap and without): links it plants, FIFOs, a swapped folder, a same-named job of
another account, endless output and huge files. The server (root here) must never read, upload or delete
anything outside the job's own `opt/ml`, never block, and never hold a job's files or log in memory."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.jobs.conftest import IS_ROOT
from tests.jobs.test_sandbox import (
    LIMITS,
    SECRETS,
    job_dir,
    job_log,
    shell_job,
    start_server,
    wait_until,
)
from tests.monitoring.test_monitoring_flow import wait_for_job
from tests.server_process import ServerProcess

HOST_SECRET = "host-secret-the-job-must-never-see"
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"

pytestmark = pytest.mark.slow  # 20 s or more: started first under xdist (tests/conftest.py)




@pytest.fixture(scope="module")
def host(base_dir: Path) -> Path:
    """Host files a job may name in a link but must never get the server to read or delete."""
    folder = base_dir / "host"
    folder.mkdir(exist_ok=True)
    secret = folder / "secret.txt"
    secret.write_text(HOST_SECRET)
    secret.chmod(0o600)
    (folder / "violations.json").write_text('{"violations": [{"feature_name": "a"}, {"feature_name": "b"}]}')
    (folder / "violations.json").chmod(0o600)
    (folder / "dir").mkdir(exist_ok=True)
    (folder / "dir" / "inside.txt").write_text(HOST_SECRET)
    return folder


@pytest.fixture(scope="module")
def server(base_dir: Path, mode: str) -> Iterator[ServerProcess]:
    process = start_server(base_dir / f"readback-{mode}", mode)
    yield process
    process.stop()


def uploaded(server: ServerProcess, prefix: str) -> list[str]:
    folder = server.data_dir / "s3" / prefix
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def put_object(server: ServerProcess, key: str, text: str) -> None:
    path = server.data_dir / "s3" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_planted_links_and_special_files_are_skipped_not_read(server: ServerProcess, mode: str, host: Path) -> None:
    sm = server.client()
    name = f"links-{mode}"
    out = "/opt/ml/processing/output"
    script = f"""
ln -sf {host}/secret.txt /opt/ml/output/message
ln -s {host}/secret.txt {out}/secret
ln -s /proc/self/environ {out}/environ
ln -s {host}/dir {out}/dir
ln -s {host}/violations.json {out}/constraint_violations.json
mkfifo {out}/pipe
mkdir {out}/sub && echo fine > {out}/sub/real.txt
"""
    sm.create_processing_job(**shell_job(name, script))
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    # Not the host file's text, and not its violations: the links were not followed.
    assert job["ExitMessage"] == "Completed: Job completed successfully with no violations."
    assert uploaded(server, f"jobs/out/{name}") == [f"logs/{name}.log", "sub/real.txt"]
    text = job_log(server, name)
    assert HOST_SECRET not in text and "topsecret" not in text
    assert "skipped 6 entries that are not regular files: " in text
    for entry in ("/opt/ml/output/message (symlink)", f"{out}/environ (symlink)", f"{out}/dir (symlink)",
                  f"{out}/pipe (fifo)", f"{out}/constraint_violations.json (symlink)"):
        assert entry in text


def test_a_fifo_message_does_not_block_the_runner(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    names = [f"fifo-{mode}-{n}" for n in range(3)]  # more than WATCHKEEPER_MAX_CONCURRENT_JOBS
    for name in names:
        sm.create_processing_job(**shell_job(name, "mkfifo /opt/ml/output/message\nexit 3"))
    for name in names:
        job = wait_for_job(sm, name, timeout=30)
        assert job["ProcessingJobStatus"] == "Failed", job
        assert job["FailureReason"].startswith("AlgorithmError: the job exited with code 3")
        assert "/opt/ml/output/message (fifo)" in job_log(server, name)


def test_a_swapped_output_folder_uploads_nothing_of_the_host(server: ServerProcess, mode: str, host: Path) -> None:
    sm = server.client()
    name = f"swap-out-{mode}"
    request = shell_job(name, f"rm -rf /opt/ml/processing/output/deep\nln -s {host}/dir /opt/ml/processing/output/deep")
    request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["LocalPath"] = "/opt/ml/processing/output/deep"
    sm.create_processing_job(**request)
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] == "Failed"
    assert "could not upload the outputs: /opt/ml/processing/output/deep is not a folder" in job["FailureReason"]
    assert uploaded(server, f"jobs/out/{name}") == [f"logs/{name}.log"]
    assert "/opt/ml/processing/output/deep (symlink)" in job_log(server, name)


@pytest.mark.parametrize(
    ("local_path", "script"),
    [
        # the job swaps a folder of its own (input/) for a link to the host: the discard must not follow it
        ("/opt/ml/processing/input/loot", "cd /opt/ml/processing && mv input i2 ; ln -s {victim} input"),
        ("/opt/ml/processing/input/sub/loot", "cd /opt/ml/processing/input && mv sub s2 && ln -s {victim} sub"),
        ("/opt/ml/processing/loot", "cd /opt/ml && mv processing p2 ; ln -s {victim} processing"),
    ],
)
def test_a_planted_link_cannot_make_the_server_delete_a_host_folder(
    server: ServerProcess, mode: str, base_dir: Path, local_path: str, script: str
) -> None:
    sm = server.client()
    name = f"discard-{mode}-{local_path.count('/')}-{len(script)}"
    victim = base_dir / f"victim-{name}"
    (victim / "loot").mkdir(parents=True)
    (victim / "loot" / "keep.txt").write_text("must survive")
    put_object(server, "jobs/loot/a.txt", "input")
    request = shell_job(name, script.format(victim=victim))
    request["ProcessingInputs"] = [{"InputName": "loot", "S3Input": {
        "S3Uri": "s3://jobs/loot", "LocalPath": local_path, "S3DataType": "S3Prefix"}}]
    sm.create_processing_job(**request)
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] in ("Completed", "Failed")
    assert (victim / "loot" / "keep.txt").read_text() == "must survive"


@pytest.mark.skipif(not IS_ROOT, reason="the server keeps opt/ml its own only when it runs as root")
def test_the_job_cannot_replace_the_folders_above_its_own(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    name = f"perms-{mode}"
    script = """
for f in /opt/ml /opt/ml/processing /opt/ml/config; do if touch $f/new 2>/dev/null; then echo "WRO""TE $f"; fi; done
for f in /opt/ml/output /opt/ml/processing/output; do touch $f/new && echo "wrote $f"; done
"""
    sm.create_processing_job(**shell_job(name, script))
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    text = job_log(server, name)
    assert "WROTE /" not in text
    # (without bubblewrap the paths are the job folder's on the host)
    assert re.search(r"^wrote \S*/opt/ml/output$", text, re.M), text
    assert re.search(r"^wrote \S*/opt/ml/processing/output$", text, re.M), text


def test_tmp_and_shm_are_sized_to_the_memory_limit(server: ServerProcess, mode: str) -> None:
    if mode != "bwrap":
        pytest.skip("without bubblewrap a job shares the host's /tmp")
    sm = server.client()
    name = "tmpfs-size"
    sm.create_processing_job(**shell_job(name, "grep -E ' /(tmp|dev/shm) ' /proc/mounts"))
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    mounts = [line for line in job_log(server, name).splitlines() if " tmpfs " in line]
    kib = int(LIMITS["WATCHKEEPER_JOB_MEMORY_MB"]) * 1024
    assert len(mounts) == 2 and all(f"size={kib}k" in line for line in mounts), mounts


# --- two accounts, a huge output, an endless log: one server with keys and roomier limits ----------------

KEYS = {"a": ("AKIDACCOUNTA", "secret-a", "111111111111"), "b": ("AKIDACCOUNTB", "secret-b", "222222222222")}


@pytest.fixture(scope="module")
def big(base_dir: Path) -> Iterator[ServerProcess]:
    env = {**FAST_ENV, **SECRETS, "WATCHKEEPER_JOB_FILE_SIZE_MB": "2048", "WATCHKEEPER_JOB_MEMORY_MB": "256",
           "WATCHKEEPER_JOB_LOG_MAX_MB": "1", "WATCHKEEPER_JOB_LEASE_SECONDS": "2"}
    process = ServerProcess(base_dir / "big", env=env, keys=KEYS).start()
    yield process
    process.stop()


def events(logs: Any, stream: str) -> list[str]:
    """Every event of a stream, page by page as the SDK reads it."""
    seen: list[str] = []
    page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)
    while page["events"]:
        seen += [e["message"] for e in page["events"]]
        page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, nextToken=page["nextForwardToken"])
    return seen


def stream_of(logs: Any, name: str) -> str:
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")["logStreams"]
    return streams[0]["logStreamName"]


def test_same_job_name_in_two_accounts_never_shares_a_folder(big: ServerProcess) -> None:
    sm_a, sm_b = (big.client(keys=KEYS[user][:2]) for user in ("a", "b"))
    first = shell_job("same", "echo A-LINE\nsleep 3\necho A-DONE > /opt/ml/processing/output/a.txt")
    sm_a.create_processing_job(**first)
    assert wait_until(lambda: "A-LINE" in _read(job_dir(big, "same", "111111111111") / "job.log"))
    second = shell_job("same", "echo B-LINE > /opt/ml/processing/output/b.txt\necho B-LINE")
    second["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = "s3://jobs-b/out/same"
    sm_b.create_processing_job(**second)
    job_b = wait_for_job(sm_b, "same", timeout=30)
    job_a = wait_for_job(sm_a, "same", timeout=30)
    assert job_a["ProcessingJobStatus"] == "Completed", job_a.get("FailureReason")
    assert job_b["ProcessingJobStatus"] == "Completed", job_b.get("FailureReason")
    assert uploaded(big, "jobs/out/same") == ["a.txt", "logs/same.log"]
    assert uploaded(big, "jobs-b/out/same") == ["b.txt", "logs/same.log"]
    logs_a, logs_b = (big.client("logs", keys=KEYS[user][:2]) for user in ("a", "b"))
    lines_a, lines_b = events(logs_a, stream_of(logs_a, "same")), events(logs_b, stream_of(logs_b, "same"))
    assert "A-LINE" in lines_a and "B-LINE" not in lines_a
    assert "B-LINE" in lines_b and "A-LINE" not in lines_b


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024  # type: ignore[index]


def test_a_huge_output_file_is_streamed(big: ServerProcess) -> None:
    assert big.process is not None
    sm = big.client(keys=KEYS["a"][:2])
    before = peak_rss_mb(big.process.pid)
    sm.create_processing_job(**shell_job("sparse", "truncate -s 1200M /opt/ml/processing/output/sparse"))
    job = wait_for_job(sm, "sparse", timeout=120)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    stored = big.data_dir / "s3" / "jobs" / "out" / "sparse" / "sparse"
    assert stored.stat().st_size == 1200 * 1024 * 1024
    stored.unlink()
    assert peak_rss_mb(big.process.pid) < before + 300, "the server read the whole file into memory"


def test_the_job_log_is_capped_and_read_a_page_at_a_time(big: ServerProcess) -> None:
    sm = big.client(keys=KEYS["a"][:2])
    # 40,000 lines of 100 characters: 4 MB printed, 1 MB kept
    script = "head -c 4000000 /dev/zero | tr '\\0' x | fold -w 99\necho LAST\"\"-LINE"
    sm.create_processing_job(**shell_job("chatty", script))
    job = wait_for_job(sm, "chatty", timeout=60)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    local = job_dir(big, "chatty", "111111111111") / "job.log"
    assert local.stat().st_size < 1024 * 1024 + 4096
    text = local.read_text()
    assert "\n... log truncated at 1 MB" in text and "LAST-LINE" not in text
    assert text.rstrip().splitlines()[-1].startswith("Job ended: Completed")
    logs = big.client("logs", keys=KEYS["a"][:2])
    stream = stream_of(logs, "chatty")
    started = time.monotonic()
    lines = events(logs, stream)
    assert lines == text.splitlines()
    page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True, limit=10)
    assert page["events"][0]["message"].startswith("Running: ")
    tail = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, limit=2)
    assert [e["message"] for e in tail["events"]] == text.splitlines()[-2:]
    assert time.monotonic() - started < 30

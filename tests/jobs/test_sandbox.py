"""User code sealed off, tried as a hostile job would, through the real server and runner: with bubblewrap
and without it (WATCHKEEPER_SANDBOX=none). A job prints its environment, tries the database, the data folder,
an object, the server's own environment, and leaves a `setsid` grandchild behind; none of it may work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.jobs.conftest import IS_ROOT
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE, wait_for_job
from tests.server_process import ServerProcess
from tests.waiting import poll
from watchkeeper.jobs.contract import job_folder

ACCOUNT = "123456789012"  # the server's default account (no auth file)
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hostile:1"
SECRETS = {
    "WATCHKEEPER_S3_SECRET_ACCESS_KEY": "topsecret-watchkeeper",
    "AWS_SECRET_ACCESS_KEY": "topsecret-aws",
    "AWS_ACCESS_KEY_ID": "AKIATOPSECRET",
}
LIMITS = {"WATCHKEEPER_JOB_FILE_SIZE_MB": "1", "WATCHKEEPER_JOB_MEMORY_MB": "256"}
OBJECT_TEXT = "object-only-the-server-may-read"

pytestmark = pytest.mark.slow  # 20 s or more: started first under xdist (tests/conftest.py)
PYTHON = "/usr/bin/python3"  # reachable by the job user in both modes (/root/.pyenv is not, without bwrap)
# `sleep 301.<run><n>`: unique to this test run, so concurrent runs never see each other's grandchildren
RUN = f"301.{os.getpid():07d}"

PROBE = """
echo "ids: $(id -u) $(id -g) groups: $(id -G)"
env | sort | sed 's/^/env: /'
if cat "$DB" >/dev/null 2>&1; then echo "DB: READ"; else echo "DB: denied"; fi
if ls "$DATA" >/dev/null 2>&1; then echo "DATA: LISTED"; else echo "DATA: denied"; fi
cat "$OBJECT" 2>&1 | head -c 300; echo
tr '\\0' '\\n' < /proc/$SERVER_PID/environ 2>&1 | head -c 3000; echo
"""




def start_server(data_dir: Path, mode: str) -> ServerProcess:
    env = {**FAST_ENV, **SECRETS, **LIMITS, "WATCHKEEPER_SANDBOX": mode, "WATCHKEEPER_JOB_LEASE_SECONDS": "2"}
    return ServerProcess(data_dir, env=env).start()


@pytest.fixture(scope="module")
def server(base_dir: Path, mode: str) -> Iterator[ServerProcess]:
    process = start_server(base_dir / mode, mode)
    secret = process.data_dir / "s3" / "private" / "secret.txt"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(OBJECT_TEXT)
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    yield
    for process in marked(RUN):
        process.kill()


def marked(prefix: str) -> list[psutil.Process]:
    """Live `sleep <marker>` processes (zombies are already dead)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if cmdline[:1] == ["sleep"] and cmdline[1:2] and cmdline[1].startswith(prefix):
            if process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def wait_until(check: Any, timeout: float = 15) -> Any:
    return poll(check, timeout=timeout)


def shell_job(name: str, script: str, *, max_runtime: int = 60, env: dict[str, str] | None = None,
              entrypoint: list[str] | None = None) -> dict[str, Any]:
    app: dict[str, Any] = {"ImageUri": IMAGE, "ContainerEntrypoint": entrypoint}
    if not entrypoint:
        # AWS caps each entrypoint/argument member at 256 characters: one script line per argument
        app["ContainerEntrypoint"] = ["/bin/sh", "-c", 'for line in "$@"; do eval "$line"; done', "sh"]
        app["ContainerArguments"] = [line for line in script.splitlines() if line.strip()]
    return {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "AppSpecification": app,
        "RoleArn": ROLE,
        "Environment": env or {},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": f"s3://jobs/out/{name}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
    }


def job_dir(server: ServerProcess, name: str, account: str = ACCOUNT, region: str = "us-east-1") -> Path:
    return job_folder(server.data_dir / "jobs", account, region, name)


def job_log(server: ServerProcess, name: str, account: str = ACCOUNT) -> str:
    return (job_dir(server, name, account) / "job.log").read_text()


def test_job_sees_no_secret_no_database_no_data(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    assert server.process is not None
    env = {
        "DB": str(server.data_dir.absolute() / "watchkeeper.db"),
        "DATA": str(server.data_dir.absolute()),
        "OBJECT": str(server.data_dir.absolute() / "s3" / "private" / "secret.txt"),
        "SERVER_PID": str(server.process.pid),
    }
    sm.create_processing_job(**shell_job(f"probe-{mode}", PROBE, env=env))
    job = wait_for_job(sm, f"probe-{mode}", timeout=30)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    text = job_log(server, f"probe-{mode}")
    assert "env: PATH=" in text and "env: HOME=/tmp" in text
    assert "topsecret" not in text and "AKIATOPSECRET" not in text
    keys = {line.split("=", 1)[0].removeprefix("env: ") for line in text.splitlines() if line.startswith("env: ")}
    assert not {key for key in keys if key.startswith(("AWS_", "WATCHKEEPER_"))} - {"WATCHKEEPER_JOB_ROOT"}
    if mode == "bwrap" or IS_ROOT:
        assert "DB: denied" in text and "DATA: denied" in text
        assert OBJECT_TEXT not in text
    if IS_ROOT:
        assert "ids: 65534 65534 groups: 65534\n" in text
    assert ("Sandbox: bubblewrap" if mode == "bwrap" else "Sandbox: no bubblewrap") in text


def test_grandchild_dies_when_the_job_ends(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    marker = f"{RUN}1"
    sm.create_processing_job(**shell_job(f"ends-{mode}", f"setsid sleep {marker} & sleep 1.5; echo done"))
    assert wait_until(lambda: marked(marker), timeout=40), "the grandchild never started"
    job = wait_for_job(sm, f"ends-{mode}", timeout=30)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert wait_until(lambda: not marked(marker), timeout=5), "a setsid grandchild outlived its job"


def test_grandchild_dies_when_the_job_is_stopped(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    marker = f"{RUN}2"
    sm.create_processing_job(**shell_job(f"stop-{mode}", f"setsid sleep {marker} & sleep 60"))
    assert wait_until(lambda: marked(marker), timeout=40), "the grandchild never started"
    sm.stop_processing_job(ProcessingJobName=f"stop-{mode}")
    job = wait_for_job(sm, f"stop-{mode}", timeout=30)
    assert job["ProcessingJobStatus"] == "Stopped"
    assert wait_until(lambda: not marked(marker), timeout=5), "a setsid grandchild outlived StopProcessingJob"


def test_grandchild_dies_at_max_runtime(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    marker = f"{RUN}3"
    # the shell ignores SIGTERM: the launcher's SIGKILL after the grace still ends it
    sm.create_processing_job(**shell_job(f"timeout-{mode}", f"trap '' TERM; setsid sleep {marker} & sleep 60",
                                         max_runtime=2))
    assert wait_until(lambda: marked(marker), timeout=40), "the grandchild never started"
    job = wait_for_job(sm, f"timeout-{mode}", timeout=30)
    assert job["ProcessingJobStatus"] == "Failed" and "MaxRuntimeInSeconds" in job["FailureReason"]
    assert wait_until(lambda: not marked(marker), timeout=5), "a setsid grandchild outlived MaxRuntime"


def test_grandchild_dies_with_a_killed_server(base_dir: Path, mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "none":
        # Known defect (docs/security.md): on a loaded machine the launcher sometimes dies with the server
        # before it signals the tree, so the tree survives; reproduced with two busy cores, not yet explained.
        request.applymarker(pytest.mark.xfail(reason="launcher race under load without bubblewrap", strict=False))
    server = start_server(base_dir / f"{mode}-killed", mode)
    marker = f"{RUN}4"
    try:
        server.client().create_processing_job(**shell_job("orphan", f"setsid sleep {marker} & sleep 60"))
        assert wait_until(lambda: marked(marker), timeout=40), "the grandchild never started"
        server.kill()  # kill -9: no shutdown code runs
        survived = wait_until(lambda: not marked(marker), timeout=20)
        if not survived:
            for process in marked(marker):  # never leave the survivor behind for later tests
                process.kill()
        assert survived, "a setsid grandchild outlived kill -9 of the server"
    finally:
        server.kill()


def test_builtin_paths_outside_opt_ml_fail_naming_the_variable(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    cases = {
        "record_preprocessor_script": "/etc/passwd",
        "post_analytics_processor_script": "/opt/ml/../../etc/passwd",
        "output_path": "/tmp/anywhere",
        "baseline_statistics": "s3://private/secret.txt",
    }
    for index, (key, value) in enumerate(cases.items()):
        name = f"escape-{mode}-{index}"
        environment = {"dataset_format": '{"csv": {"header": false}}', "dataset_source": "/opt/ml/processing/input",
                       "output_path": "/opt/ml/processing/output", key: value}
        request = shell_job(name, "")
        request["AppSpecification"] = {"ImageUri": ANALYZER}
        request["Environment"] = environment
        sm.create_processing_job(**request)
        job = wait_for_job(sm, name, timeout=30)
        assert job["ProcessingJobStatus"] == "Failed"
        assert job["FailureReason"].startswith(
            f"ClientError: Environment {key}={value} lies outside the job's /opt/ml view"
        ), job["FailureReason"]


def test_file_size_limit(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    name = f"fsize-{mode}"
    sm.create_processing_job(**shell_job(name, "head -c 3000000 /dev/zero > /opt/ml/processing/output/big"))
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] == "Failed"
    assert (job_dir(server, name) / "opt/ml/processing/output/big").stat().st_size <= 1024 * 1024


@pytest.mark.skipif(not os.access(PYTHON, os.X_OK), reason=f"{PYTHON} is needed as a memory hog")
def test_memory_limit(server: ServerProcess, mode: str) -> None:
    sm = server.client()
    name = f"memory-{mode}"
    hog = [PYTHON, "-c", "x = bytearray(600 * 1024 * 1024); print('ALLOC' + 'ATED')"]
    sm.create_processing_job(**shell_job(name, "", entrypoint=hog))
    job = wait_for_job(sm, name, timeout=30)
    assert job["ProcessingJobStatus"] == "Failed"
    text = job_log(server, name)
    assert "MemoryError" in text and "ALLOCATED" not in text


@pytest.mark.skipif(not os.access(PYTHON, os.X_OK), reason=f"{PYTHON} is needed to try the network")
def test_network_only_when_isolation_is_off(server: ServerProcess, mode: str) -> None:
    if mode != "bwrap":
        pytest.skip("without bubblewrap jobs share the host's network (docs/security.md)")
    sm = server.client()
    fetch = [PYTHON, "-c", f"import urllib.request; print(urllib.request.urlopen('{server.url}/healthz').status)"]
    sm.create_processing_job(**shell_job("net-off", "", entrypoint=fetch))
    sm.create_processing_job(**shell_job("net-on", "", entrypoint=fetch),
                             NetworkConfig={"EnableNetworkIsolation": False})
    assert wait_for_job(sm, "net-off", timeout=30)["ProcessingJobStatus"] == "Failed"
    job = wait_for_job(sm, "net-on", timeout=30)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")


def test_a_checkout_under_tmp_is_bound_above_the_private_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """CI may clone into /tmp: the venv and src/ binds must come after the private /tmp, not be hidden by it."""
    from watchkeeper.jobs import sandbox as sandbox_module
    from watchkeeper.jobs.contract import JobRoot
    from watchkeeper.jobs.sandbox import Limits, Sandbox

    monkeypatch.setattr(sandbox_module, "_python_paths", lambda: ["/tmp/clone/.venv", "/tmp/clone/src"])
    box = Sandbox("bwrap", 65534, 65534, Limits(1, 1, 1, 1, 1), tmp_path, ())
    args = box._bwrap(JobRoot(tmp_path / "job"), network=False)
    tmpfs_at = next(i for i in range(len(args) - 1) if args[i : i + 2] == ["--tmpfs", "/tmp"])
    binds_at = [i for i, arg in enumerate(args) if arg == "--ro-bind" and args[i + 1].startswith("/tmp/clone")]
    assert binds_at and all(i > tmpfs_at for i in binds_at)

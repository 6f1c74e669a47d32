"""Processing jobs through boto3: own commands under the container contract, the built-in analyzer's
failures, timeouts, stops, and kills of the worker and of the server."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from botocore.exceptions import ClientError

from tests.endpoint_helpers import FAST_ENV
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE, wait_for_job
from tests.server_process import ServerProcess
from tests.waiting import poll
from watchkeeper.jobs.contract import job_folder

BYOC_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-analyzer:1"
SCRIPT = """
import json, os, pathlib, sys, time
root = pathlib.Path(os.environ["WATCHKEEPER_JOB_ROOT"])
config = json.loads(root.joinpath("opt/ml/config/processingjobconfig.json").read_text())
mode = os.environ["mode"]
if mode == "sleep":
    print("sleeping", flush=True); time.sleep(60)
out = pathlib.Path(sys.argv[1])
data = sorted(p.name for p in pathlib.Path(sys.argv[2]).rglob("*") if p.is_file())
out.joinpath("result.json").write_text(json.dumps({"inputs": data, "job": config["ProcessingJobName"]}))
if mode == "violations":
    out.joinpath("constraint_violations.json").write_text(json.dumps({"violations": [{"feature_name": "x"}]}))
if mode == "fail":
    pathlib.Path(os.environ["WATCHKEEPER_JOB_ROOT"], "opt/ml/output/message").write_text("custom check blew up")
    sys.exit(3)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("jobs"), env=FAST_ENV).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sm(server: ServerProcess) -> Any:
    return server.client()


def put(server: ServerProcess, uri: str, text: str) -> None:
    path = server.data_dir / "s3" / uri.removeprefix("s3://")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def s3_file(server: ServerProcess, uri: str) -> Path:
    return server.data_dir / "s3" / uri.removeprefix("s3://")


def job_request(
    name: str, *, mode: str = "ok", max_runtime: int = 60, image: str = BYOC_IMAGE, **extra: Any
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {
            "ImageUri": image,
            "ContainerEntrypoint": [sys.executable, "/opt/ml/processing/code/check.py"],
            "ContainerArguments": ["/opt/ml/processing/output", "/opt/ml/processing/input/data"],
        },
        "RoleArn": ROLE,
        "Environment": {"mode": mode},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": "s3://jobs/code/check.py",
                    "LocalPath": "/opt/ml/processing/code",
                    "S3DataType": "S3Prefix",
                },
            },
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://jobs/data",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {
                        "S3Uri": f"s3://jobs/out/{name}",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    }
    request.update(extra)
    return request


@pytest.fixture(scope="module", autouse=True)
def inputs(server: ServerProcess) -> None:
    put(server, "s3://jobs/code/check.py", SCRIPT)
    put(server, "s3://jobs/data/a.csv", "1,2\n")
    put(server, "s3://jobs/data/nested/b.csv", "3,4\n")


def wait_status(sm: Any, name: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    return poll(
        lambda: sm.describe_processing_job(ProcessingJobName=name),
        until=lambda job: job["ProcessingJobStatus"] == wanted,
        timeout=timeout,
    )


def job_process(name: str) -> psutil.Process:
    """The running command of a job (its root folder is its working directory)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for process in psutil.process_iter(["cmdline", "cwd"]):
            try:
                if (
                    process.info["cwd"]
                    and process.info["cwd"].endswith(f"/jobs/123456789012/us-east-1/{name}")
                    and "check.py" in " ".join(process.info["cmdline"] or [])
                ):
                    return process
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        time.sleep(0.1)
    raise AssertionError(f"no process for job {name}")


def test_own_command_runs_under_the_container_contract(sm: Any, server: ServerProcess) -> None:
    arn = sm.create_processing_job(**job_request("byoc-ok"))["ProcessingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:processing-job/byoc-ok"
    job = wait_for_job(sm, "byoc-ok")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ExitMessage"] == "Completed: Job completed successfully with no violations."
    assert job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    assert job["ProcessingInputs"][0]["S3Input"]["S3InputMode"] == "File"  # defaults echoed, as AWS does
    result = s3_file(server, "s3://jobs/out/byoc-ok/result.json").read_text()
    assert '"inputs": ["a.csv", "b.csv"]' in result and '"job": "byoc-ok"' in result
    assert s3_file(server, "s3://jobs/out/byoc-ok/logs/byoc-ok.log").exists()
    summaries = sm.list_processing_jobs(NameContains="byoc-ok")["ProcessingJobSummaries"]
    assert [s["ProcessingJobStatus"] for s in summaries] == ["Completed"]


def test_violations_file_without_message_means_completed_with_violations(sm: Any) -> None:
    sm.create_processing_job(**job_request("byoc-violations", mode="violations"))
    assert wait_for_job(sm, "byoc-violations")["ExitMessage"] == (
        "CompletedWithViolations: Job completed successfully with 1 violations."
    )


def test_failing_command_fails_with_its_message_and_uploads_no_output(sm: Any, server: ServerProcess) -> None:
    sm.create_processing_job(**job_request("byoc-fail", mode="fail"))
    job = wait_for_job(sm, "byoc-fail")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: custom check blew up.")
    assert "s3://jobs/out/byoc-fail/logs/byoc-fail.log" in job["FailureReason"]
    assert not s3_file(server, "s3://jobs/out/byoc-fail/result.json").exists()
    assert "Running:" in s3_file(server, "s3://jobs/out/byoc-fail/logs/byoc-fail.log").read_text()


def test_max_runtime_kills_the_job(sm: Any) -> None:
    sm.create_processing_job(**job_request("byoc-timeout", mode="sleep", max_runtime=1))
    job = wait_for_job(sm, "byoc-timeout", timeout=30)
    assert job["ProcessingJobStatus"] == "Failed"
    assert "MaxRuntimeInSeconds (1 s)" in job["FailureReason"]


def test_stop_processing_job(sm: Any) -> None:
    sm.create_processing_job(**job_request("byoc-stop", mode="sleep"))
    job_process("byoc-stop")
    sm.stop_processing_job(ProcessingJobName="byoc-stop")
    assert sm.describe_processing_job(ProcessingJobName="byoc-stop")["ProcessingJobStatus"] in ("Stopping", "Stopped")
    assert wait_status(sm, "byoc-stop", "Stopped")["ProcessingJobStatus"] == "Stopped"
    with pytest.raises(ClientError) as excinfo:
        sm.stop_processing_job(ProcessingJobName="byoc-stop")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    sm.get_waiter("processing_job_completed_or_stopped").wait(
        ProcessingJobName="byoc-stop", WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )


def test_killed_worker_fails_the_job(sm: Any) -> None:
    sm.create_processing_job(**job_request("byoc-killed", mode="sleep"))
    job_process("byoc-killed").send_signal(signal.SIGKILL)
    job = wait_for_job(sm, "byoc-killed")
    assert job["ProcessingJobStatus"] == "Failed"
    assert "exited with code -9" in job["FailureReason"]


def test_api_errors(sm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sm.describe_processing_job(ProcessingJobName="never-created")
    assert excinfo.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Could not find requested job with name never-created",
    }
    sm.create_processing_job(**job_request("dup-job"))
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_processing_job(**job_request("dup-job"))
    bad = job_request("bad-path")
    bad["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/etc/passwd"
    with pytest.raises(ClientError) as excinfo:
        sm.create_processing_job(**bad)
    assert "LocalPath '/etc/passwd'" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError):
        sm.describe_processing_job(ProcessingJobName="bad-path")
    unknown = job_request("no-entrypoint")
    del unknown["AppSpecification"]["ContainerEntrypoint"]
    sm.create_processing_job(**unknown)
    assert "no ContainerEntrypoint" in wait_for_job(sm, "no-entrypoint")["FailureReason"]


def analyzer_job(name: str, environment: dict[str, str], inputs: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": ANALYZER},
        "RoleArn": ROLE,
        "Environment": {"output_path": "/opt/ml/processing/output", **environment},
        "ProcessingInputs": [
            {"InputName": n, "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix"}}
            for n, uri, local in inputs
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "result",
                    "S3Output": {
                        "S3Uri": f"s3://jobs/out/{name}",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    }


def test_builtin_analyzer_failures_name_their_cause(sm: Any, server: ServerProcess) -> None:
    csv_format = '{"csv": {"header": false}}'
    put(server, "s3://jobs/baseline/statistics.json", "{ this is not json")
    put(server, "s3://jobs/baseline/constraints.json", '{"version": 0.0, "features": []}')
    put(server, "s3://jobs/prep/preprocessor.py", "def preprocess_handler(record):\n    return 1 / 0\n")
    cases = {
        "no-data": (
            {
                "dataset_format": csv_format,
                "dataset_source": "/opt/ml/processing/input/empty",
                "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
            },
            [
                ("empty", "s3://jobs/nothing-here", "/opt/ml/processing/input/empty"),
                ("constraints", "s3://jobs/baseline/constraints.json", "/opt/ml/processing/baseline/constraints"),
            ],
            "Job inputs had no data",
        ),
        "bad-baseline": (
            {
                "dataset_format": csv_format,
                "dataset_source": "/opt/ml/processing/input/data",
                "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json",
            },
            [
                ("data", "s3://jobs/data", "/opt/ml/processing/input/data"),
                ("baseline", "s3://jobs/baseline/statistics.json", "/opt/ml/processing/baseline/stats"),
            ],
            "statistics.json",
        ),
        "bad-preprocessor": (
            {
                "dataset_format": csv_format,
                "dataset_source": "/opt/ml/processing/input/data",
                "record_preprocessor_script": "/opt/ml/processing/code/preprocessor.py",
            },
            [
                ("data", "s3://jobs/data", "/opt/ml/processing/input/data"),
                ("code", "s3://jobs/prep/preprocessor.py", "/opt/ml/processing/code"),
            ],
            "preprocessor.py",
        ),
    }
    for name, (environment, inputs, _) in cases.items():
        sm.create_processing_job(**analyzer_job(name, environment, inputs))
    for name, (_, _, fragment) in cases.items():
        job = wait_for_job(sm, name)
        assert job["ProcessingJobStatus"] == "Failed", name
        # A baseline file that cannot be read is the caller's fault (ClientError); the rest the algorithm's.
        kind = "ClientError: " if name.startswith("bad-baseline") else "AlgorithmError: "
        assert job["FailureReason"].startswith(kind), job["FailureReason"]
        assert fragment in job["FailureReason"], job["FailureReason"]
        assert f"s3://jobs/out/{name}/logs/{name}.log" in job["FailureReason"]
    assert "line 2" in sm.describe_processing_job(ProcessingJobName="bad-preprocessor")["FailureReason"]


def test_killed_server_leaves_no_job_in_progress(tmp_path: Path) -> None:
    env = {**FAST_ENV, "WATCHKEEPER_JOB_LEASE_SECONDS": "2"}
    server = ServerProcess(tmp_path / "data", env=env).start()
    put(server, "s3://jobs/code/check.py", SCRIPT)
    put(server, "s3://jobs/data/a.csv", "1\n")
    sm = server.client()
    sm.create_processing_job(**job_request("orphan", mode="sleep"))
    worker = job_process("orphan")
    server.kill()  # kill -9: no shutdown code runs
    worker.wait(timeout=10)  # the job's process does not outlive the server
    restarted = ServerProcess(tmp_path / "data", env=env, port=server.port).start()
    try:
        job = wait_for_job(restarted.client(), "orphan", timeout=30)
        assert job["ProcessingJobStatus"] == "Failed"
        assert "stopped (crash, kill or restart) before the job finished" in job["FailureReason"]
        assert not s3_file(restarted, "s3://jobs/out/orphan/result.json").exists()
    finally:
        restarted.stop()
    assert os.path.exists(job_folder(tmp_path / "data" / "jobs", "123456789012", "us-east-1", "orphan") / "job.log")

"""CloudWatch Logs over processing-job logs, through boto3's `logs` client: what the SDK's `logs=True` reads."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess
from watchkeeper.jobs.contract import job_folder
from watchkeeper.services.context import RequestContext
from watchkeeper.services.job_logs import JobLogService

GROUP = "/aws/sagemaker/ProcessingJobs"
LINES = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("logs"), env=FAST_ENV).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def logs(server: ServerProcess) -> Any:
    return server.client("logs")


@pytest.fixture(scope="module")
def job(server: ServerProcess) -> str:
    """A finished job of our own command that prints LINES numbered lines."""
    sm, name = server.client(), "job-that-logs"
    sm.create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 1}
        },
        AppSpecification={
            "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-check:1",
            "ContainerEntrypoint": [sys.executable, "-c", f"for i in range({LINES}): print(f'line {{i}}')"],
        },
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "out",
                    "S3Output": {
                        "S3Uri": "s3://logs-test/out",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )
    deadline = time.monotonic() + 60
    while sm.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"] in ("InProgress", "Stopping"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return name


def read_all(logs: Any, stream: str, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    """Follow nextForwardToken until it comes back unchanged, as the SDK and the CLI do; (events, pages)."""
    events: list[dict[str, Any]] = []
    token, pages = None, 0
    while True:
        page = logs.get_log_events(
            logGroupName=GROUP,
            logStreamName=stream,
            startFromHead=True,
            **kwargs,
            **({"nextToken": token} if token else {}),
        )
        pages += 1
        events += page["events"]
        if page["nextForwardToken"] == token:
            return events, pages
        token = page["nextForwardToken"]


def stream_of(logs: Any, job: str) -> dict[str, Any]:
    streams = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{job}/")["logStreams"]
    assert len(streams) == 1
    return streams[0]


def test_stream_is_named_as_sagemaker_names_it(logs: Any, job: str, server: ServerProcess) -> None:
    stream = stream_of(logs, job)
    started = server.client().describe_processing_job(ProcessingJobName=job)["ProcessingStartTime"]
    assert stream["logStreamName"] == f"{job}/algo-1-{int(started.timestamp())}"
    assert stream["arn"].endswith(f":log-group:{GROUP}:log-stream:{stream['logStreamName']}")
    assert stream["firstEventTimestamp"] == stream["creationTime"]


def test_events_are_the_job_log_lines_in_order(logs: Any, job: str) -> None:
    stream = stream_of(logs, job)
    events, _ = read_all(logs, stream["logStreamName"])
    messages = [e["message"] for e in events]
    printed = [m for m in messages if m.startswith("line ")]
    assert printed == [f"line {i}" for i in range(LINES)]
    assert messages[-1].startswith("Job ended: Completed")
    assert {e["timestamp"] for e in events} == {stream["creationTime"]}


def test_pages_by_limit_and_resumes_from_a_time(logs: Any, job: str) -> None:
    stream = stream_of(logs, job)["logStreamName"]
    whole, _ = read_all(logs, stream)
    paged, pages = read_all(logs, stream, limit=10)
    assert paged == whole
    assert pages == -(-len(whole) // 10) + 1  # the last call returns nothing and the same token
    # The SDK resumes with startTime = the last timestamp it saw and skips what it already printed there.
    again = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream, startTime=whole[-1]["timestamp"], startFromHead=True
    )
    assert again["events"] == whole
    later = logs.get_log_events(
        logGroupName=GROUP, logStreamName=stream, startTime=whole[-1]["timestamp"] + 1, startFromHead=True
    )
    assert later["events"] == []
    # Without startFromHead the newest `limit` events come back, and the backward token reads what precedes them.
    tail = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=5)
    assert tail["events"] == whole[-5:]
    before = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=5, nextToken=tail["nextBackwardToken"])
    assert before["events"] == whole[-10:-5]


def test_uploaded_log_is_served_once_the_job_folder_is_gone(logs: Any, job: str, server: ServerProcess) -> None:
    stream = stream_of(logs, job)["logStreamName"]
    whole, _ = read_all(logs, stream)
    local = job_folder(server.data_dir / "jobs", "123456789012", "us-east-1", job) / "job.log"
    assert local.exists()
    local.rename(local.with_suffix(".moved"))
    try:
        assert read_all(logs, stream)[0] == whole
    finally:
        local.with_suffix(".moved").rename(local)


def test_missing_group_stream_and_operation(logs: Any, job: str) -> None:
    assert logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix="no-such-job/")["logStreams"] == []
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job}/")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=GROUP, logStreamName="no-such-job/algo-1-1")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.get_log_events(logGroupName=GROUP, logStreamName=f"{job}/algo-1-1", nextToken="garbage")
    with pytest.raises(ClientError) as raised:
        logs.create_log_group(logGroupName="/mine")
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"


class _OneJob:
    """Stands in for ProcessingJobService: one running job."""

    def describe(self, ctx: Any, name: str) -> dict[str, Any]:
        return {"ProcessingJobName": name, "ProcessingStartTime": 1700000000.0, "LastModifiedTime": 1700000001.0}


def test_a_line_still_being_written_is_held_back(tmp_path: Path) -> None:
    service = JobLogService(_OneJob(), store=None, jobs_dir=tmp_path)  # type: ignore[arg-type]
    ctx = RequestContext(account="123456789012", region="us-east-1")
    log = job_folder(tmp_path, ctx.account, ctx.region, "running") / "job.log"
    log.parent.mkdir(parents=True)
    log.write_text("first\nsec")
    page = service.events(ctx, GROUP, "running/algo-1-1700000000", from_head=True)
    assert [e["message"] for e in page.events] == ["first"]
    log.write_text("first\nsecond\n")
    page = service.events(ctx, GROUP, "running/algo-1-1700000000", token=page.forward)
    assert [e["message"] for e in page.events] == ["second"]

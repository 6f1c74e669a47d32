"""A server killed while a transform job runs: the restarted server fails the job with a reason once its lease
has expired, and never leaves it InProgress."""

from __future__ import annotations

from pathlib import Path

from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess
from tests.transform.conftest import create_model, put, request, wait_for
from tests.waiting import poll


def test_a_killed_runner_leaves_a_failed_job(tmp_path: Path, model_url: str) -> None:
    first = ServerProcess(tmp_path / "data", env=FAST_ENV).start()
    try:
        sm = first.client()
        create_model(sm, "scorer", model_url)
        put(first, "s3://data/in.csv", "slow\n" * 5)  # 3 s a record at the model server
        sm.create_transform_job(**request("interrupted", "scorer", "s3://data/in.csv", "s3://data/out",
                                          SplitType="Line", BatchStrategy="SingleRecord"))
        started = poll(lambda: sm.describe_transform_job(TransformJobName="interrupted"),
                       lambda d: "TransformStartTime" in d, timeout=20)
        assert started["TransformJobStatus"] == "InProgress"
    finally:
        first.kill()  # kill -9: no clean shutdown, the lease is simply no longer renewed
    second = ServerProcess(tmp_path / "data", env=FAST_ENV).start()
    try:
        done = wait_for(second.client(), "interrupted", timeout=30)
        assert done["TransformJobStatus"] == "Failed"
        assert done["FailureReason"].startswith("InternalServerError: the Watchkeeper process running this")
    finally:
        second.stop()

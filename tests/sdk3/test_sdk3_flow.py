"""The SageMaker Python SDK 3.x flow (sagemaker.core.model_monitor, sagemaker.core.resources) against a real
Watchkeeper alone (its S3 API over the embedded store), as tests/sdk/ runs the 2.x flow: the driver runs in
`.venv-sdk3` in a subprocess and this test checks what the SDK got back and what landed in S3. Expected numbers
come from AWS's own churn baseline in `tests/fixtures/aws/`.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_fixtures import aws_fixture
from tests.endpoint_helpers import FAST_ENV
from tests.sdk.test_sdk_flow import ACCESS_KEY, REGION, SECRET_KEY, keys_under, read_json, sdk_env
from tests.server_process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
SDK_PYTHON = REPO / ".venv-sdk3" / "bin" / "python"
DRIVER = Path(__file__).resolve().parent / "sdk3_flow.py"
ARTIFACTS = aws_fixture("churn-data-quality")
TRAINING = ARTIFACTS / "training-dataset-with-header.csv"
ROWS_SENT = 30

pytestmark = [
    pytest.mark.skipif(not SDK_PYTHON.exists(), reason=f"{SDK_PYTHON} is missing: run `make test`, which builds it"),
]


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    keys = {"sdk": (ACCESS_KEY, SECRET_KEY, "123456789012")}
    process = ServerProcess(tmp_path_factory.mktemp("sdk3"), env=dict(FAST_ENV), keys=keys).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory, server: ServerProcess, model_url: str) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("sdk3-client")
    bucket = f"sdk3-{uuid.uuid4().hex[:12]}"
    command = [str(SDK_PYTHON), str(DRIVER), "--bucket", bucket, "--model-url", model_url]
    command += ["--training", str(TRAINING), "--rows", str(ROWS_SENT)]
    done = subprocess.run(
        command, env=sdk_env(tmp, server), capture_output=True, text=True, timeout=240, check=False
    )
    (tmp / "sdk3-flow.log").write_text(done.stderr)
    assert done.returncode == 0, (
        f"SDK 3.x flow failed:\n{done.stderr[-6000:]}\n--- server log ---\n{server.log_path.read_text()[-4000:]}"
    )
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report["bucket"] = bucket
    return report


def test_suggest_baseline_matches_aws(flow: dict[str, Any], s3: Any) -> None:
    baseline = flow["baseline"]
    assert baseline["status"] == "Completed"
    job, bucket = baseline["job_name"], flow["bucket"]
    assert baseline["dataset_uri"] == f"s3://{bucket}/model-monitor/baselining/{job}/input/baseline_dataset_input"
    aws_constraints = json.loads((ARTIFACTS / "constraints.json").read_text())
    aws_statistics = json.loads((ARTIFACTS / "statistics.partial.json").read_text())
    assert baseline["constraints"]["features"] == aws_constraints["features"]
    assert baseline["statistics"]["dataset"]["item_count"] == aws_statistics["dataset"]["item_count"]
    assert read_json(s3, f"{baseline['output_uri']}/statistics.json") == baseline["statistics"]


def test_capture_schedule_and_latest_reports(flow: dict[str, Any], s3: Any) -> None:
    assert flow["endpoint"]["status"] == "InService" and flow["endpoint"]["capture_enabled"] is True
    assert flow["endpoint"]["invocations"] == ROWS_SENT
    capture_keys = keys_under(s3, f"s3://{flow['bucket']}/churn/capture/churn-sdk3/AllTraffic")
    records = [
        json.loads(line)
        for key in capture_keys
        for line in s3.get_object(Bucket=flow["bucket"], Key=key)["Body"].read().splitlines()
    ]
    sent = {line.split(",", 1)[1] for line in TRAINING.read_text().splitlines()[1 : 1 + ROWS_SENT]}
    assert {r["captureData"]["endpointInput"]["data"] for r in records} == sent

    [execution] = flow["executions"]
    assert execution["status"] == "Completed"
    assert execution["exit_message"].startswith("CompletedWithViolations: ")
    assert flow["schedule"] == {"type": "DataQuality", "last_status": "CompletedWithViolations"}
    statistics, violations = flow["latest_statistics"], flow["latest_violations"]
    assert statistics["dataset"]["item_count"] == ROWS_SENT
    assert read_json(s3, f"{execution['output_uri']}/constraint_violations.json") == violations
    churn = [v for v in violations["violations"] if v["feature_name"] == "Churn"]
    assert "data_type_check" in {v["constraint_check_type"] for v in churn}


def test_reweight_and_teardown(flow: dict[str, Any]) -> None:
    assert flow["reweighted"] == {"current": 2.0, "desired": 2.0}
    assert flow["deleted"] == "ValidationException"

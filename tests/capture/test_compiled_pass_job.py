"""A processing job of the built-in analyzer, through the real server and runner, reads a large capture file by
the compiled pass the runner hands it (and by no library the request names), and writes what the polars
pass writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.capture.test_direct import require_compiled_pass
from tests.capture.test_scan_library import _capture
from tests.endpoint_helpers import FAST_ENV
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE, s3_path, wait_for_job
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("compiled"), env=FAST_ENV).start()
    yield process
    process.stop()


def analyse(server: ServerProcess, name: str, environment: dict[str, str]) -> tuple[dict, str]:
    """A data-quality job over s3://capture/big; its statistics and its log."""
    sm = server.client()
    sm.create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 30}},
        AppSpecification={"ImageUri": ANALYZER},
        RoleArn=ROLE,
        Environment={"dataset_format": '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", '
                                       '"endpointOutput"]}}',
                     "dataset_source": "/opt/ml/processing/input/endpoint",
                     "output_path": "/opt/ml/processing/output", "publish_cloudwatch_metrics": "Disabled",
                     **environment},
        ProcessingInputs=[{"InputName": "endpoint", "S3Input": {
            "S3Uri": "s3://capture/big", "LocalPath": "/opt/ml/processing/input/endpoint", "S3DataType": "S3Prefix",
            "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": f"s3://capture/reports/{name}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
    )
    job = wait_for_job(sm, name)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    statistics = orjson.loads(s3_path(server, f"s3://capture/reports/{name}/statistics.json").read_bytes())
    return statistics, s3_path(server, f"s3://capture/reports/{name}/logs/{name}.log").read_text()


def test_a_job_reads_large_capture_by_the_compiled_pass(server: ServerProcess):
    require_compiled_pass()
    _capture(s3_path(server, "s3://capture/big"), json_payload=True)
    # A library the request names is not the runner's: it is never loaded (this one does not even exist).
    compiled, log = analyse(server, "compiled", {"WATCHKEEPER_SCAN_LIBRARY": "/opt/ml/processing/input/x.so"})
    assert "Capture lines read by the compiled pass: 6000 of 6000" in log
    polars_only, log = analyse(server, "polars-only", {"WATCHKEEPER_COMPILED_SCAN": "0"})
    assert "compiled pass" not in log
    assert compiled == polars_only and compiled["dataset"]["item_count"] == 6000


def test_the_capture_file_is_large_enough(tmp_path: Path):
    _capture(tmp_path / "big", json_payload=True)
    assert (tmp_path / "big" / "capture.jsonl").stat().st_size >= 1 << 20

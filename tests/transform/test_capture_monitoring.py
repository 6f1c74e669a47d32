"""A transform job with DataCaptureConfig writes AWS's batch-capture manifests, and a batch data-quality
schedule (BatchTransformInput) analyses the objects they name: the numbers are checked against numpy over the
transform's own input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson

from tests.monitoring.test_batch_monitoring import cli, csv_rows
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE
from tests.server_process import ServerProcess
from tests.transform.conftest import create_model, get, objects, put, request, wait_for


def schedule(sm: Any, name: str, capture: str) -> None:
    sm.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinition": {
                "BaselineConfig": {
                    "ConstraintsResource": {"S3Uri": "s3://bt/baseline/constraints.json"},
                    "StatisticsResource": {"S3Uri": "s3://bt/baseline/statistics.json"},
                },
                "MonitoringInputs": [{"BatchTransformInput": {
                    "DataCapturedDestinationS3Uri": capture, "LocalPath": "/opt/ml/processing/input",
                    "DatasetFormat": {"Csv": {"Header": False}}}}],
                "MonitoringOutputConfig": {"MonitoringOutputs": [
                    {"S3Output": {"S3Uri": f"s3://bt/reports/{name}", "LocalPath": "/opt/ml/processing/output"}}]},
                "MonitoringResources": {
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
                "MonitoringAppSpecification": {"ImageUri": ANALYZER},
                "RoleArn": ROLE,
            },
        },
    )


def analysed(server: ServerProcess, name: str, first: float, last: float) -> dict[str, Any]:
    """Run the schedule over the capture hours from `first` to `last` (epoch seconds)."""
    hour = datetime.fromtimestamp(first, UTC).replace(minute=0, second=0, microsecond=0)
    end = datetime.fromtimestamp(last, UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    run = cli(server, "run", name, "--start", hour.isoformat(), "--end", end.isoformat())
    assert run.returncode == 0, run.stdout + run.stderr
    report = run.stdout.split("Reports: ")[1].strip()
    return orjson.loads(get(server, f"{report}/statistics.json"))


def test_captured_transform_is_monitored(server: ServerProcess, model_url: str, tmp_path: Any) -> None:
    sm = server.client()
    create_model(sm, "captured", model_url)
    rng = np.random.default_rng(3)
    baseline = tmp_path / "baseline.csv"
    baseline.write_text(csv_rows(rng, 400))
    made = cli(server, "baseline", "--dataset", str(baseline), "--format", "csv",
               "--output", str(server.data_dir / "s3/bt/baseline"))
    assert made.returncode == 0, made.stderr
    parts = [csv_rows(rng, 60), csv_rows(rng, 45)]
    put(server, "s3://bt/transform-in/part-0.csv", parts[0])
    put(server, "s3://bt/transform-in/part-1.csv", parts[1])
    sm.create_transform_job(**request(
        "captured", "captured", "s3://bt/transform-in", "s3://bt/transform-out", SplitType="Line",
        AssembleWith="Line", BatchStrategy="MultiRecord", DataCaptureConfig={"DestinationS3Uri": "s3://bt/capture"}))
    done = wait_for(sm, "captured")
    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    started = done["TransformStartTime"].timestamp()
    hour = datetime.fromtimestamp(started, UTC).strftime("%Y/%m/%d/%H")
    manifests = objects(server, "s3://bt/capture")
    assert [m.rsplit("/", 1)[0] for m in manifests] == [f"input/{hour}", f"output/{hour}"]
    assert orjson.loads(get(server, f"s3://bt/capture/{manifests[0]}")) == [
        {"prefix": "s3://bt/transform-in/"}, "part-0.csv", "part-1.csv"]
    assert orjson.loads(get(server, f"s3://bt/capture/{manifests[1]}")) == [
        {"prefix": "s3://bt/transform-out/"}, "part-0.csv.out", "part-1.csv.out"]

    # A second job over one object, captured to the same destination: AWS's manifest form for one object.
    single = csv_rows(rng, 30)
    put(server, "s3://bt/one/test-dataset.csv", single)
    sm.create_transform_job(**request("single", "captured", "s3://bt/one/test-dataset.csv", "s3://bt/one-out",
                                      SplitType="Line", DataCaptureConfig={"DestinationS3Uri": "s3://bt/capture"}))
    second = wait_for(sm, "single")
    assert second["TransformJobStatus"] == "Completed", second.get("FailureReason")
    manifests = set(objects(server, "s3://bt/capture")) - set(manifests)
    contents = [orjson.loads(get(server, f"s3://bt/capture/{m}")) for m in sorted(manifests)]
    assert contents == [[{"prefix": "s3://bt/one/test-dataset.csv"}, ""],  # spec §3.4, a real AWS manifest
                        [{"prefix": "s3://bt/one-out/"}, "test-dataset.csv.out"]]

    schedule(sm, "captured-hourly", "s3://bt/capture")
    stats = analysed(server, "captured-hourly", started, second["TransformStartTime"].timestamp())
    rows = np.loadtxt([*"".join(parts).splitlines(), *single.splitlines()], delimiter=",")
    assert stats["dataset"]["item_count"] == len(rows)  # the inputs the manifests name, not the manifests
    means = [f["numerical_statistics"]["mean"] for f in stats["features"]]
    assert np.allclose(means, rows.mean(axis=0), rtol=1e-12)

"""Model quality end to end, as a user runs it: endpoint with capture → traffic with inference ids →
labels uploaded with `watchkeeper ground-truth put` → baseline from the CLI → ModelQuality schedule →
merge job then analysis job → Completed; with degraded labels → CompletedWithViolations."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest

from tests.endpoint_helpers import FAST_ENV, capture_config, deploy, read_capture
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("model-quality"), env=FAST_ENV).start()
    yield process
    process.stop()


def cli(server: ServerProcess, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "watchkeeper", *args, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def send_traffic(server: ServerProcess, endpoint: str, n: int) -> list[float]:
    """Rows whose score spreads around 0.5 through the test model; returns the probabilities answered."""
    runtime = server.client("sagemaker-runtime")
    rng = np.random.default_rng(7)
    scores = []
    for i, b in enumerate(rng.normal(0, 3, n)):
        answer = runtime.invoke_endpoint(
            EndpointName=endpoint, Body=f"0,{b:.4f},0,0".encode(), ContentType="text/csv", InferenceId=f"{endpoint}-{i}"
        )
        scores.append(float(answer["Body"].read()))
    return scores


def labels_file(endpoint: str, scores: list[float], *, invert: bool) -> str:
    """Mostly right labels (one in ten wrong), or inverted ones."""
    lines = []
    for i, p in enumerate(scores):
        label = int(p >= 0.5) ^ (i % 10 == 0)
        lines.append(orjson.dumps({"inferenceId": f"{endpoint}-{i}", "label": 1 - label if invert else label}).decode())
    return "\n".join(lines) + "\n"


def monitor(server: ServerProcess, sm: Any, endpoint: str) -> dict[str, Any]:
    sm.create_model_quality_job_definition(
        JobDefinitionName=f"{endpoint}-mq",
        ModelQualityAppSpecification={"ImageUri": ANALYZER, "ProblemType": "BinaryClassification"},
        ModelQualityBaselineConfig={"ConstraintsResource": {"S3Uri": "s3://mq/baseline/constraints.json"}},
        ModelQualityJobInput={
            "EndpointInput": {
                "EndpointName": endpoint,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "ProbabilityAttribute": "0",
                "ProbabilityThresholdAttribute": 0.5,
            },
            "GroundTruthS3Input": {"S3Uri": f"s3://mq/ground-truth/{endpoint}"},
        },
        ModelQualityJobOutputConfig={
            "MonitoringOutputs": [{"S3Output": {"S3Uri": "s3://mq/reports", "LocalPath": "/opt/ml/processing/output"}}]
        },
        JobResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        RoleArn=ROLE,
    )
    sm.create_monitoring_schedule(
        MonitoringScheduleName=f"{endpoint}-now",
        MonitoringScheduleConfig={
            "ScheduleConfig": {
                "ScheduleExpression": "NOW",
                "DataAnalysisStartTime": "-PT1H",
                "DataAnalysisEndTime": "PT0H",
            },
            "MonitoringJobDefinitionName": f"{endpoint}-mq",
            "MonitoringType": "ModelQuality",
        },
    )
    deadline = time.monotonic() + 120
    while True:
        summaries = sm.list_monitoring_executions(MonitoringScheduleName=f"{endpoint}-now")[
            "MonitoringExecutionSummaries"
        ]
        if summaries and summaries[0]["MonitoringExecutionStatus"] not in ("Pending", "InProgress"):
            return summaries[0]
        assert time.monotonic() < deadline, summaries
        time.sleep(0.3)


def test_model_quality_schedule_with_ground_truth(server: ServerProcess, model_url: str) -> None:
    sm = server.client()
    for endpoint in ("mq-good", "mq-bad"):
        deploy(sm, endpoint, model_url, capture=capture_config(f"s3://mq/capture/{endpoint}"))
    good, bad = send_traffic(server, "mq-good", 80), send_traffic(server, "mq-bad", 80)
    for endpoint, n in (("mq-good", 80), ("mq-bad", 80)):
        assert len(read_capture(server.data_dir / f"s3/mq/capture/{endpoint}", expected=n)) == n

    # Baseline: validation data with predictions, through the CLI (as the SDK's ModelQualityMonitor would).
    validation = server.data_dir / "validation.csv"
    rows = [f"{p},{int(p >= 0.5) ^ (i % 10 == 0)}" for i, p in enumerate(good)]
    validation.write_text("probability,label\n" + "\n".join(rows) + "\n")
    cli(
        server,
        "baseline",
        "--analysis-type",
        "model-quality",
        "--problem-type",
        "BinaryClassification",
        "--probability-attribute",
        "probability",
        "--ground-truth-attribute",
        "label",
        "--dataset",
        str(validation),
        "--format",
        "csv",
        "--header",
        "--output",
        str(server.data_dir / "s3/mq/baseline"),
    )
    constraints = orjson.loads((server.data_dir / "s3/mq/baseline/constraints.json").read_bytes())
    assert "binary_classification_constraints" in constraints

    cli(
        server,
        "ground-truth",
        "put",
        "--destination",
        "s3://mq/ground-truth/mq-good",
        "--file",
        "-",
        stdin=labels_file("mq-good", good, invert=False),
    )
    cli(
        server,
        "ground-truth",
        "put",
        "--destination",
        "s3://mq/ground-truth/mq-bad",
        "--file",
        "-",
        stdin=labels_file("mq-bad", bad, invert=True),
    )

    execution = monitor(server, sm, "mq-good")
    assert execution["MonitoringExecutionStatus"] == "Completed", execution
    assert execution["MonitoringType"] == "ModelQuality"
    job_name = execution["ProcessingJobArn"].split(":")[5][len("processing-job/") :]
    assert job_name.startswith("model-quality-monitoring-")
    merge_name = "groundtruth-merge-" + job_name[len("model-quality-monitoring-") :]
    merge = sm.describe_processing_job(ProcessingJobName=merge_name)
    assert merge["ProcessingJobStatus"] == "Completed"
    assert merge["ExitMessage"] == "Completed: Merged 80 of 80 captured inferences with ground truth."
    merged = list((server.data_dir / "s3/mq/reports/merge/mq-good/AllTraffic").rglob("part-00000-*.c000.jsonl"))
    assert merged
    job = sm.describe_processing_job(ProcessingJobName=job_name)
    assert job["Environment"]["analysis_type"] == "MODEL_QUALITY"
    report = (
        server.data_dir / "s3" / job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].removeprefix("s3://")
    )
    statistics = orjson.loads((report / "statistics.json").read_bytes())
    metrics = statistics["binary_classification_metrics"]
    # Same traffic, same labels as the baseline: the metrics equal the baseline's thresholds.
    assert metrics["accuracy"]["value"] == pytest.approx(
        constraints["binary_classification_constraints"]["accuracy"]["threshold"]
    )
    assert orjson.loads((report / "constraint_violations.json").read_bytes())["violations"] == []

    degraded = monitor(server, sm, "mq-bad")
    assert degraded["MonitoringExecutionStatus"] == "CompletedWithViolations", degraded
    bad_job = sm.describe_processing_job(
        ProcessingJobName=degraded["ProcessingJobArn"].split(":")[5][len("processing-job/") :]
    )
    bad_report = (
        server.data_dir
        / "s3"
        / bad_job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].removeprefix("s3://")
    )
    violations = orjson.loads((bad_report / "constraint_violations.json").read_bytes())["violations"]
    assert {v["metric_name"] for v in violations} >= {"accuracy", "precision", "recall"}
    accuracy = next(v for v in violations if v["metric_name"] == "accuracy")
    assert accuracy["constraint_check_type"] == "LessThanThreshold"
    assert accuracy["description"].startswith("Metric accuracy with ")
    assert (
        bad_job["ExitMessage"]
        == f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    )


def test_model_quality_without_labels_fails_with_the_reason(server: ServerProcess, model_url: str) -> None:
    sm = server.client()
    deploy(sm, "mq-unlabelled", model_url, capture=capture_config("s3://mq/capture/mq-unlabelled"))
    send_traffic(server, "mq-unlabelled", 5)
    read_capture(server.data_dir / "s3/mq/capture/mq-unlabelled", expected=5)
    execution = monitor(server, sm, "mq-unlabelled")
    assert execution["MonitoringExecutionStatus"] == "Failed"
    assert execution["FailureReason"].startswith("AlgorithmError: Job inputs had no data: none of the 5 captured")
    assert execution["ProcessingJobArn"].split("/")[-1].startswith("groundtruth-merge-")

"""The job runner's own choice: with WATCHKEEPER_DASK_SCHEDULER set, a processing job of the built-in analyzer
is claimed, staged from object storage, analysed on the cluster, and its reports uploaded, Completed; the
reports are those of the analyzer run on the same files in this process."""

from __future__ import annotations

import dataclasses
import json

from tests.dask.conftest import table, write_csv
from tests.in_process import CTX
from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.jobs.analyzers.data_quality import suggest_baseline
from watchkeeper.jobs.executors.dask import DaskExecutor
from watchkeeper.jobs.runner import JobRunner
from watchkeeper.services.container import Services

INPUT, OUTPUT = "/opt/ml/processing/input/baseline", "/opt/ml/processing/output"


def test_a_processing_job_runs_on_the_configured_scheduler(cluster, tmp_path):
    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "data", dask_scheduler=cluster.scheduler_address)
    services = Services.build(settings, FakeClock())
    runner = JobRunner(services.processing_jobs, services.store, settings.jobs_dir, settings=settings)
    try:
        assert isinstance(runner.executor, DaskExecutor)
        source = write_csv(tmp_path / "local" / "train.csv", table(4_000, 3), short_every=500)
        services.store.put_bytes("s3://bucket/baseline/train.csv", source.read_bytes())
        services.processing_jobs.create(CTX, {
            "ProcessingJobName": "baseline-on-dask",
            "ProcessingInputs": [{"InputName": "baseline_dataset_input", "S3Input": {
                "S3Uri": "s3://bucket/baseline/", "LocalPath": INPUT, "S3DataType": "S3Prefix",
                "S3InputMode": "File"}}],
            "ProcessingOutputConfig": {"Outputs": [{"OutputName": "monitoring_output", "S3Output": {
                "S3Uri": "s3://bucket/report", "LocalPath": OUTPUT, "S3UploadMode": "EndOfJob"}}]},
            "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                      "VolumeSizeInGB": 20}},
            "AppSpecification": {
                "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"},
            "Environment": {"dataset_source": INPUT, "output_path": OUTPUT,
                            "dataset_format": json.dumps({"csv": {"header": True}})},
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        })
        row = services.processing_jobs.claim(runner.owner, 30)
        outcome = runner.run_claimed(row)
        described = services.processing_jobs.describe(CTX, "baseline-on-dask")
        assert described["ProcessingJobStatus"] == "Completed", (outcome, described.get("FailureReason"))
        reference = suggest_baseline(source.parent, tmp_path / "reference", {"csv": {"header": True}})
        assert described["ExitMessage"] == reference.message
        for name in ("constraints.json", "statistics.json"):
            uploaded = json.loads(services.store.get_bytes(f"s3://bucket/report/{name}"))
            want = json.loads((tmp_path / "reference" / name).read_text())
            assert uploaded == want, name  # one part (a small file): every bit the same
        log = services.store.get_bytes("s3://bucket/report/logs/baseline-on-dask.log").decode()
        assert "Running on the Dask cluster" in log
    finally:
        runner.stop()
        services.close()

"""The ingestion watcher's rules: which jobs, namespaces, line shapes, invalid lines skipped, once per job."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import func, select

from watchkeeper.config import Settings
from watchkeeper.metrics.ingest import MetricIngestion, default_namespace
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import metric_points

DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"


def _job(uri: str, environment: dict[str, str], schedule: str | None = "arn:aws:sagemaker:us-east-1:1:x") -> Any:
    body = {
        "Environment": environment,
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "o", "S3Output": {"S3Uri": uri, "LocalPath": "/o"}}]},
    }
    return SimpleNamespace(
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{abs(hash(uri))}",
        name="job",
        account="123456789012",
        region="us-east-1",
        body=orjson.dumps(body).decode(),
        monitoring_schedule_arn=schedule,
    )


def test_ingestion_rules(tmp_path: Path) -> None:
    services = Services.build(dataclasses.replace(Settings(), data_dir=tmp_path, database_url=""))
    ingestion = MetricIngestion(services.metrics.store, services.store)
    lines = [
        {"MetricName": "a", "Timestamp": "2026-01-10T00:00:00Z", "Dimensions": [], "Value": 0.5},
        {"Namespace": "custom/ns", "MetricData": [{"MetricName": "b", "Timestamp": 1768003200, "Value": 2}]},
        {"MetricName": "bad", "Value": "not a number"},
    ]
    text = "\n".join(orjson.dumps(line).decode() for line in lines) + "\nnot json\n"
    enabled = {"publish_cloudwatch_metrics": "Enabled", "analysis_type": "MODEL_QUALITY"}
    cases = {
        "once": _job("s3://b/once", enabled),
        "disabled": _job("s3://b/disabled", {"publish_cloudwatch_metrics": "Disabled"}),
        "no-schedule": _job("s3://b/no-schedule", enabled, schedule=None),
    }
    for name in cases:
        services.store.put_bytes(f"s3://b/{name}/metrics/m.jsonl", text.encode())

    def count() -> int:
        with services.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(metric_points)).scalar_one())

    for _ in range(2):  # a second Completed of one job adds nothing
        for job in cases.values():
            with services.db.write() as conn:
                ingestion.job_changed(conn, job, "Completed", {})
    assert count() == 2
    with services.db.write() as conn:  # other statuses ingest nothing
        ingestion.job_changed(conn, _job("s3://b/once", enabled), "Failed", {})
    assert count() == 2
    ctx = RequestContext("123456789012", "us-east-1")
    listed = services.metrics.list_metrics(ctx, {})["Metrics"]
    assert sorted((m["Namespace"], m["MetricName"]) for m in listed) == [
        ("aws/sagemaker/ModelMonitoring/model-metrics", "a"),  # no endpoint: a batch-transform schedule
        ("custom/ns", "b"),
    ]
    services.close()


def test_default_namespaces() -> None:
    endpoint = {"sagemaker_endpoint_name": "e"}
    assert default_namespace(endpoint) == DATA_METRICS
    assert default_namespace({**endpoint, "analysis_type": "MODEL_QUALITY"}) == "aws/sagemaker/Endpoints/model-metrics"
    assert default_namespace({}) == "aws/sagemaker/ModelMonitoring/data-metrics"
    assert default_namespace({"analysis_type": "MODEL_BIAS"}) == "aws/sagemaker/ModelMonitoring/bias-metrics"

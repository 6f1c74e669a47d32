"""The demo's steps, through boto3 as a user's notebook would make them: the training set uploaded to S3,
a baseline, an endpoint with capture, traffic (normal, then drifted), a schedule, its execution, the report,
the metrics and the dashboard. Every call is the public API (SageMaker, sagemaker-runtime, S3, CloudWatch, all
served by Watchkeeper), so the loop runs against any Watchkeeper server. Its objects are under
`s3://watchkeeper-demo/<name>/` (train/, baseline/, capture/, reports/).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import orjson

from watchkeeper.demo.model import FEATURES, PLANS, parse_rows, predict

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
ROLE = "arn:aws:iam::123456789012:role/WatchkeeperDemo"
BUCKET = "watchkeeper-demo"
NAME = "churn-demo"
NORMAL_REQUESTS = 150
DRIFTED_REQUESTS = 150


@dataclass
class Outcome:
    """What the demo saw, for its closing summary and its test."""

    baseline_job: str = ""
    execution_status: str = ""
    execution_arn: str = ""
    report_uri: str = ""
    violations: list[dict[str, Any]] = field(default_factory=list)
    drift: dict[str, float] = field(default_factory=dict)
    dashboard: str = ""


def customers() -> str:
    return resources.files("watchkeeper.demo").joinpath("customers.csv").read_text()


def baseline_csv(text: str) -> str:
    """The training set as the baseline wants it: the model's output first, then the features (no label)."""
    lines = text.splitlines()
    features = [line.split(",", 1)[1] for line in lines[1:]]
    probabilities = predict(*parse_rows("\n".join(features)))
    header = ",".join(("churn_probability", *FEATURES))
    return "\n".join([header, *(f"{p:.6f},{row}" for p, row in zip(probabilities, features, strict=True))]) + "\n"


def drifted(rows: list[str], seed: int = 7) -> list[str]:
    """Production drifts: prices up half again, more support calls, new customers on the basic plan."""
    numeric, _ = parse_rows("\n".join(rows))
    rng = np.random.default_rng(seed)
    charges = (numeric[:, 1] * 1.5).round(2)
    calls = numeric[:, 3] + rng.poisson(3, len(rows))
    return [
        f"{int(a)},{c:.2f},{int(t)},{int(s)},{PLANS[0]}"
        for a, c, t, s in zip(numeric[:, 0], charges, numeric[:, 2], calls, strict=True)
    ]


def wait_until(what: Callable[[], Any], done: Callable[[Any], bool], timeout: float, label: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label} did not finish within {timeout:g} s (last seen: {value})")
        time.sleep(0.2)


class DemoLoop:
    def __init__(self, url: str, clients: Callable[[str], Any], say: Callable[[str], None], name: str = NAME) -> None:
        self.url = url
        self.name = name
        self.s3 = clients("s3")
        self.sm = clients("sagemaker")
        self.runtime = clients("sagemaker-runtime")
        self.cloudwatch = clients("cloudwatch")
        self.say = say
        self.outcome = Outcome()

    def uri(self, path: str) -> str:
        return f"s3://{BUCKET}/{self.name}/{path}"

    def run(self, model_url: str) -> Outcome:
        self.baseline()
        self.endpoint(model_url)
        self.traffic()
        self.schedule()
        self.report()
        self.metrics()
        self.outcome.dashboard = f"{self.url}/ui/schedules/{self.name}"
        return self.outcome

    def baseline(self) -> None:
        with contextlib.suppress(self.s3.exceptions.BucketAlreadyOwnedByYou):
            self.s3.create_bucket(Bucket=BUCKET)
        dataset = baseline_csv(customers())
        self.s3.put_object(Bucket=BUCKET, Key=f"{self.name}/train/baseline.csv", Body=dataset.encode())
        rows = dataset.count("\n") - 1
        self.say(f"training set: {rows} customers, the model's churn probability first -> {self.uri('train/')}")
        job = f"{self.name}-baseline-{int(time.time())}"
        self.sm.create_processing_job(**baseline_request(job, self.uri("train"), self.uri("baseline")))
        described = wait_until(
            lambda: self.sm.describe_processing_job(ProcessingJobName=job),
            lambda d: d["ProcessingJobStatus"] not in ("InProgress", "Stopping"),
            120,
            "the baseline job",
        )
        if described["ProcessingJobStatus"] != "Completed":
            raise RuntimeError(f"baseline job {job}: {described.get('FailureReason')}")
        constraints = self._json(f"{self.name}/baseline/constraints.json")
        self.outcome.baseline_job = job
        self.say(
            f"baseline job {job}: Completed; statistics.json and constraints.json "
            f"({len(constraints['features'])} features) in {self.uri('baseline/')}"
        )

    def endpoint(self, model_url: str) -> None:
        self.sm.create_model(
            ModelName=self.name,
            PrimaryContainer={
                "Image": "watchkeeper-demo/churn:1",
                "Environment": {"WATCHKEEPER_UPSTREAM_URL": model_url},
            },
            ExecutionRoleArn=ROLE,
        )
        variant = {"VariantName": "AllTraffic", "ModelName": self.name, "InitialInstanceCount": 1}
        self.sm.create_endpoint_config(
            EndpointConfigName=self.name,
            ProductionVariants=[{**variant, "InstanceType": "ml.m5.large"}],
            DataCaptureConfig={
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": self.uri("capture"),
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
            },
        )
        self.sm.create_endpoint(EndpointName=self.name, EndpointConfigName=self.name)
        waiter = self.sm.get_waiter("endpoint_in_service")
        waiter.wait(EndpointName=self.name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 300})
        self.say(f"endpoint {self.name}: InService in front of the bundled model at {model_url}")

    def traffic(self) -> None:
        rows = [line.split(",", 1)[1] for line in customers().splitlines()[1:]]
        normal = rows[:NORMAL_REQUESTS]
        shifted = drifted(rows[NORMAL_REQUESTS : NORMAL_REQUESTS + DRIFTED_REQUESTS])
        answers = [self._invoke(row) for row in normal]
        self.say(
            f"traffic: {len(normal)} requests like the training set (mean churn probability {np.mean(answers):.3f})"
        )
        answers = [self._invoke(row) for row in shifted]
        self.say(
            f"drift: {len(shifted)} requests with prices x1.5, ~3 more support calls, everyone on 'basic' "
            f"(mean churn probability {np.mean(answers):.3f})"
        )
        expected = len(normal) + len(shifted)
        prefix = f"{self.name}/capture/{self.name}/"
        wait_until(lambda: self._captured(prefix), lambda n: n >= expected, 30, "the capture writer")
        self.say(f"captured: {expected} records in s3://{BUCKET}/{prefix}AllTraffic/yyyy/mm/dd/hh/")

    def schedule(self) -> None:
        self.sm.create_data_quality_job_definition(**job_definition_request(self.name, self.uri("")))
        self.sm.create_monitoring_schedule(
            MonitoringScheduleName=self.name,
            MonitoringScheduleConfig={
                "ScheduleConfig": {
                    "ScheduleExpression": "NOW",
                    "DataAnalysisStartTime": "-PT1H",
                    "DataAnalysisEndTime": "PT0H",
                },
                "MonitoringJobDefinitionName": self.name,
                "MonitoringType": "DataQuality",
            },
        )
        self.say(
            f"schedule {self.name}: DataQuality, expression NOW over the last hour "
            "(a cron such as cron(0 * ? * * *) runs hourly)"
        )
        summary = wait_until(
            lambda: self.sm.list_monitoring_executions(MonitoringScheduleName=self.name)[
                "MonitoringExecutionSummaries"
            ],
            lambda s: bool(s) and s[0]["MonitoringExecutionStatus"] not in ("Pending", "InProgress"),
            120,
            "the monitoring execution",
        )[0]
        self.outcome.execution_status = summary["MonitoringExecutionStatus"]
        self.outcome.execution_arn = summary.get("ProcessingJobArn", "")
        job = self.outcome.execution_arn.rsplit("/", 1)[-1]
        described = self.sm.describe_processing_job(ProcessingJobName=job)
        self.outcome.report_uri = described["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        self.say(f"execution {job}: {self.outcome.execution_status}; report in {self.outcome.report_uri}/")

    def report(self) -> None:
        key = f"{self.outcome.report_uri.removeprefix(f's3://{BUCKET}/')}/constraint_violations.json"
        try:
            self.outcome.violations = self._json(key)["violations"]
        except self.s3.exceptions.NoSuchKey:
            self.outcome.violations = []
        self.say(f"violations ({len(self.outcome.violations)}), from constraint_violations.json:")
        for violation in self.outcome.violations:
            self.say(
                f"  {violation['feature_name']}: {violation['constraint_check_type']}: {violation['description'][:150]}"
            )

    def metrics(self) -> None:
        """The drift per feature the execution published, read back from the CloudWatch API."""
        namespace = "aws/sagemaker/Endpoints/data-metrics"
        dimensions = [{"Name": "Endpoint", "Value": self.name}]
        for metric in self.cloudwatch.list_metrics(Namespace=namespace, Dimensions=dimensions)["Metrics"]:
            name = metric["MetricName"]
            if not name.startswith("feature_baseline_drift_"):
                continue
            points = self.cloudwatch.get_metric_statistics(
                Namespace=namespace,
                MetricName=name,
                Dimensions=metric["Dimensions"],
                StartTime=time.time() - 7200,
                EndTime=time.time() + 60,
                Period=3600,
                Statistics=["Maximum"],
            )["Datapoints"]
            if points:
                self.outcome.drift[name.removeprefix("feature_baseline_drift_")] = max(p["Maximum"] for p in points)
        shown = ", ".join(f"{k} {v:.3f}" for k, v in sorted(self.outcome.drift.items(), key=lambda kv: -kv[1]))
        self.say(f"CloudWatch metrics ({namespace}), baseline drift per feature: {shown or 'none'}")

    def _json(self, key: str) -> Any:
        return orjson.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def _captured(self, prefix: str) -> int:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return sum(len(self.s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().splitlines()) for k in keys)

    def _invoke(self, row: str) -> float:
        answer = self.runtime.invoke_endpoint(EndpointName=self.name, Body=row.encode(), ContentType="text/csv")
        return float(answer["Body"].read())


def baseline_request(job: str, dataset_uri: str, output_uri: str) -> dict[str, Any]:
    """CreateProcessingJob as DefaultModelMonitor.suggest_baseline submits it."""
    local_in, local_out = "/opt/ml/processing/input/baseline_dataset_input", "/opt/ml/processing/output"
    return {
        "ProcessingJobName": job,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
        },
        "AppSpecification": {"ImageUri": ANALYZER},
        "RoleArn": ROLE,
        "Environment": {
            "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
            "dataset_source": local_in,
            "output_path": local_out,
            "publish_cloudwatch_metrics": "Disabled",
        },
        "ProcessingInputs": [
            {
                "InputName": "baseline_dataset_input",
                "S3Input": {
                    "S3Uri": dataset_uri,
                    "LocalPath": local_in,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {"S3Uri": output_uri, "LocalPath": local_out, "S3UploadMode": "EndOfJob"},
                }
            ]
        },
    }


def job_definition_request(name: str, root: str) -> dict[str, Any]:
    """A data-quality job definition over the endpoint `name`, with the baseline and reports under `root`."""
    return {
        "JobDefinitionName": name,
        "DataQualityAppSpecification": {"ImageUri": ANALYZER, "Environment": {"publish_cloudwatch_metrics": "Enabled"}},
        "DataQualityBaselineConfig": {
            "ConstraintsResource": {"S3Uri": f"{root}baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": f"{root}baseline/statistics.json"},
        },
        "DataQualityJobInput": {
            "EndpointInput": {"EndpointName": name, "LocalPath": "/opt/ml/processing/input/endpoint"}
        },
        "DataQualityJobOutputConfig": {
            "MonitoringOutputs": [{"S3Output": {"S3Uri": f"{root}reports", "LocalPath": "/opt/ml/processing/output"}}]
        },
        "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}},
        "RoleArn": ROLE,
    }

"""Ingestion: the CloudWatch metric lines a monitoring execution's job wrote enter the metrics store.

The job runner uploads what a job wrote to `CLOUDWATCH_METRICS_DIRECTORY` to `<first S3 output>/metrics/`
(jobs/runner.py). When such a job becomes Completed, this watcher of job status changes
(ProcessingJobService.watch) reads those objects and inserts their points, in the transaction of the status
change: the points are stored exactly when the job is Completed, once (a restart never doubles them, and a
second Completed of one job is refused by the service). Only jobs of a monitoring schedule whose Environment
has `publish_cloudwatch_metrics` Enabled are ingested, as on AWS.

A line is one MetricDatum (`{"MetricName", "Timestamp", "Dimensions", "Value" | "StatisticValues"}`, what the
built-in analyzers write) or a PutMetricData document (`{"Namespace"?, "MetricData": [...]}`). The namespace is
the line's own, else AWS's for the job: `aws/sagemaker/Endpoints/<kind>` for an endpoint's schedule,
`aws/sagemaker/ModelMonitoring/<kind>` for a batch-transform one, with kind `data-metrics`, `model-metrics`,
`bias-metrics` or `explainability-metrics` by the job's `analysis_type`. Timestamps are the analyzer's (the
window start), however old. A line that is not a valid datum is skipped and counted in the server log; a
fault reading the objects loses the execution's points (logged), never the job's completion.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import botocore.session
import orjson
from botocore.model import StructureShape
from sqlalchemy import Connection, Row

from watchkeeper.api.validation import validate_input
from watchkeeper.errors import AwsError
from watchkeeper.metrics.datums import Point, points_of
from watchkeeper.metrics.store import MetricsStore
from watchkeeper.services.context import RequestContext
from watchkeeper.storage import ObjectStore
from watchkeeper.storage.base import StorageError, join_uri

log = logging.getLogger(__name__)

COMPLETED = "Completed"
MAX_BYTES = 16 * 1024 * 1024  # metric lines read per job; the rest is skipped (logged)
KINDS = {
    "MODEL_QUALITY": "model-metrics",
    "MODEL_BIAS": "bias-metrics",
    "MODEL_EXPLAINABILITY": "explainability-metrics",
}


@functools.lru_cache(maxsize=1)
def _datum_shape() -> StructureShape:
    shape = botocore.session.get_session().get_service_model("cloudwatch").shape_for("MetricDatum")
    assert isinstance(shape, StructureShape)
    return shape


def default_namespace(environment: dict[str, Any]) -> str:
    kind = KINDS.get(str(environment.get("analysis_type", "")).upper(), "data-metrics")
    where = "Endpoints" if environment.get("sagemaker_endpoint_name") else "ModelMonitoring"
    return f"aws/sagemaker/{where}/{kind}"


def parse_lines(text: str, namespace: str, now: float) -> tuple[list[Point], int]:
    """The points of a metric file, and how many datums were skipped as invalid."""
    points: list[Point] = []
    skipped = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = orjson.loads(line)
            if isinstance(document, dict) and "MetricData" in document:
                space, datums = document.get("Namespace") or namespace, document["MetricData"]
            else:
                space, datums = namespace, [document]
            if not isinstance(space, str) or not isinstance(datums, list):
                raise ValueError("not a PutMetricData document")
        except (orjson.JSONDecodeError, ValueError):
            skipped += 1
            continue
        for datum in datums:
            try:
                valid = validate_input(_datum_shape(), datum)
                points += points_of(space, valid, f"line {number}", now, check_age=False)
            except (AwsError, KeyError, TypeError, ValueError):
                skipped += 1
    return points, skipped


class MetricIngestion:
    def __init__(self, metrics: MetricsStore, objects: ObjectStore) -> None:
        self.metrics = metrics
        self.objects = objects

    def job_changed(self, conn: Connection, job: Row[Any], status: str, values: dict[str, Any]) -> None:
        if status != COMPLETED or not job.monitoring_schedule_arn:
            return
        request = orjson.loads(job.body)
        environment = request.get("Environment") or {}
        if str(environment.get("publish_cloudwatch_metrics", "")).lower() != "enabled":
            return
        outputs = [o for o in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or [] if "S3Output" in o]
        if not outputs:
            return
        try:
            with conn.begin_nested():  # a fault here undoes only the points, never the job's completion
                if self.metrics.ingested(conn, job.arn):
                    return
                points = self._read(join_uri(outputs[0]["S3Output"]["S3Uri"], "metrics") + "/", environment, job.name)
                stored = self.metrics.insert(conn, RequestContext(job.account, job.region), points, source=job.arn)
        except (StorageError, OSError) as exc:
            log.warning("metrics of job %s not ingested: could not read its metric lines: %s", job.name, exc)
            return
        except Exception:
            log.exception("metrics of job %s not ingested", job.name)
            return
        if stored:
            log.info("ingested %d metric points of job %s", stored, job.name)

    def _read(self, prefix: str, environment: dict[str, Any], job_name: str) -> list[Point]:
        namespace = default_namespace(environment)
        now = self.metrics.clock.now()
        points: list[Point] = []
        skipped = 0
        budget = MAX_BYTES
        for info in self.objects.list(prefix):
            if info.size > budget:
                log.warning("job %s: metric file %s skipped: over the %d-byte budget", job_name, info.uri, MAX_BYTES)
                continue
            budget -= info.size
            found, bad = parse_lines(self.objects.get_bytes(info.uri).decode("utf-8", "replace"), namespace, now)
            points += found
            skipped += bad
        if skipped:
            log.warning("job %s: %d metric datums skipped (not valid CloudWatch datums)", job_name, skipped)
        return points

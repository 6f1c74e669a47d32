"""What a scrape reads again and what it keeps (prometheus_collect.py): after executions are added or change
status, a schedule is created, a drift series receives a point, the exposition shows the new state."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
from sqlalchemy import insert, update

from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.metrics.datums import Point
from watchkeeper.metrics.prometheus import Family
from watchkeeper.metrics.prometheus_collect import Collector
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import monitoring_executions, monitoring_schedules, processing_jobs

CTX = RequestContext("123456789012", "us-east-1")
NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


def samples(families: list[Family], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    family = next(f for f in families if f.name == name)
    return {labels: value for _, labels, value in family.samples}


def add_schedule(services: Services, name: str, now: float) -> None:
    with services.db.write() as conn:
        conn.execute(insert(monitoring_schedules).values(
            account=CTX.account, region=CTX.region, name=name, name_key=name, arn=CTX.arn("monitoring-schedule", name),
            status="Scheduled", creation_time=now, last_modified_time=now, config="{}", endpoint_name="ep",
            monitoring_type="DataQuality"))


def add_execution(services: Services, schedule: str, at: float, status: str, now: float, report: str) -> str:
    job = f"job-{schedule}-{int(at)}"
    arn = CTX.arn("processing-job", job)
    body = orjson.dumps({"ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": report}}]}}).decode()
    with services.db.write() as conn:
        conn.execute(insert(processing_jobs).values(
            account=CTX.account, region=CTX.region, name=job, name_key=job, arn=arn, status="Completed", body=body,
            creation_time=now, last_modified_time=now, processing_start_time=now, processing_end_time=now + 42,
            stop_requested=0))
        conn.execute(insert(monitoring_executions).values(
            account=CTX.account, region=CTX.region, schedule_name=schedule, schedule_key=schedule, scheduled_time=at,
            creation_time=now, last_modified_time=now, status=status, processing_job_arn=arn, endpoint_name="ep"))
    return arn


def test_each_change_shows_at_the_next_scrape(tmp_path: Path) -> None:
    clock = FakeClock(1_800_000_000.0)
    services = Services.build(dataclasses.replace(Settings(), data_dir=tmp_path), clock)
    try:
        collector = Collector(services)
        services.store.put_bytes("s3://r/a/constraint_violations.json", orjson.dumps({"violations": [
            {"feature_name": "x", "constraint_check_type": "baseline_drift_check"},
            {"feature_name": "y", "constraint_check_type": "baseline_drift_check"},
            {"feature_name": "y", "constraint_check_type": "data_type_check"}]}))
        add_schedule(services, "one", clock.now())
        add_execution(services, "one", 1.0, "Completed", clock.now(), "s3://r/none")
        dims = (("Endpoint", "ep"), ("MonitoringSchedule", "one"))
        with services.db.write() as conn:
            services.metrics_store.insert(conn, CTX, [Point(NAMESPACE, "feature_baseline_drift_x", dims,
                                                            clock.now() - 3600, 1, 0.25, 0.25, 0.25)])
        first = collector.families(None)
        labels = (("account", CTX.account), ("region", CTX.region), ("monitoring_schedule", "one"), ("endpoint", "ep"))
        assert samples(first, "watchkeeper_monitoring_execution_last_status") == {(*labels, ("status", "Completed")): 1}
        drift = samples(first, "watchkeeper_feature_baseline_drift")
        assert list(drift.values()) == [0.25]

        # A newer execution with violations, a second schedule, a newer drift point; a minute passes.
        clock.advance(120)
        add_execution(services, "one", 2.0, "InProgress", clock.now(), "s3://r/a")
        add_schedule(services, "two", clock.now())
        with services.db.write() as conn:
            services.metrics_store.insert(conn, CTX, [Point(NAMESPACE, "feature_baseline_drift_x", dims,
                                                            clock.now(), 1, 0.75, 0.75, 0.75)])
        second = collector.families(None)
        assert samples(second, "watchkeeper_monitoring_execution_last_status") == {
            (*labels, ("status", "InProgress")): 1}
        assert list(samples(second, "watchkeeper_feature_baseline_drift").values()) == [0.75]

        # It ends with violations: status, counts and the report's violations per check type follow.
        with services.db.write() as conn:
            conn.execute(update(monitoring_executions).where(monitoring_executions.c.status == "InProgress")
                         .values(status="CompletedWithViolations"))
        for _ in range(2):  # and the same again from what is kept
            third = collector.families(None)
            assert samples(third, "watchkeeper_monitoring_execution_last_status") == {
                (*labels, ("status", "CompletedWithViolations")): 1}
            assert samples(third, "watchkeeper_monitoring_execution_last_violations") == {
                (*labels, ("check_type", "baseline_drift_check")): 2, (*labels, ("check_type", "data_type_check")): 1}
            assert samples(third, "watchkeeper_monitoring_execution_last_duration_seconds") == {labels: 42}
            assert samples(third, "watchkeeper_monitoring_executions") == {
                (("account", CTX.account), ("region", CTX.region), ("status", "Completed")): 1,
                (("account", CTX.account), ("region", CTX.region), ("status", "CompletedWithViolations")): 1}
    finally:
        services.close()

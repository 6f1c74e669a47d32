"""The plan runner moves an execution through its type's plan: in-process, a FakeClock, an in-memory executor."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import select

from tests.api.conftest import hourly_config, job_definition_request
from tests.plans.conftest import CTX, t
from watchkeeper.commands._executions import run_execution
from watchkeeper.jobs.contract import MESSAGE_FILE
from watchkeeper.jobs.executors import Job, Outcome
from watchkeeper.jobs.executors.memory import InMemoryExecutor
from watchkeeper.jobs.runner import JobRunner
from watchkeeper.services.container import Services
from watchkeeper.services.monitoring_types import BY_NAME
from watchkeeper.services.processing_jobs import FAILED
from watchkeeper.store.tables import monitoring_executions, processing_jobs

FIRE = t("2026-03-01T01:00:00")
OUTPUT = "/opt/ml/processing/output"


def schedule(services: Services, kind: str) -> Any:
    if kind == "DataQuality":
        config = hourly_config()
    else:
        services.job_definitions.create(CTX, BY_NAME[kind], job_definition_request(kind, f"{kind}-def"))
        config = {
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": f"{kind}-def",
            "MonitoringType": kind,
        }
    services.schedules.create(CTX, f"{kind.lower()}-hourly", config, [])
    return services.schedules.find_row(CTX, f"{kind.lower()}-hourly")


def execution(services: Services, execution_id: int) -> Any:
    with services.db.read() as conn:
        return conn.execute(select(monitoring_executions).where(monitoring_executions.c.id == execution_id)).one()


def job_names(services: Services) -> list[str]:
    with services.db.read() as conn:
        return list(conn.execute(select(processing_jobs.c.name).order_by(processing_jobs.c.id)).scalars())


def succeed(message: str = "Completed: Job completed successfully with no violations."):
    def work(job: Job) -> int:
        job.root.local(OUTPUT).mkdir(parents=True, exist_ok=True)
        (job.root.local(OUTPUT) / "statistics.json").write_text("{}")
        job.root.local(MESSAGE_FILE).write_text(message)
        return 0

    return work


def fail(job: Job) -> int:
    job.root.local(MESSAGE_FILE).write_text("ClientError: no ground truth matched the capture.")
    return 1


def run_pending(services: Services, executor: InMemoryExecutor) -> None:
    """What the server's runner does, one claim at a time, until nothing is left."""
    runner = JobRunner(
        services.processing_jobs, services.store, services.settings.jobs_dir, settings=services.settings,
        executor=executor,
    )
    while (row := services.processing_jobs.claim(runner.owner, 30)) is not None:
        runner.run_claimed(row)


def test_model_quality_runs_merge_then_analysis(services: Services) -> None:
    started = services.starter.start(schedule(services, "ModelQuality"), FIRE)
    assert started is not None and started.job_name and started.job_name.startswith("groundtruth-merge-")
    pending = execution(services, started.execution_id)
    assert pending.status == "Pending" and len(orjson.loads(pending.next_job)) == 1

    executor = InMemoryExecutor(
        {
            "groundtruth-merge-": succeed(),
            "model-quality-monitoring-": succeed("CompletedWithViolations: Job completed with 2 violations."),
        }
    )
    run_pending(services, executor)
    merge, analysis = (job.name for job in executor.jobs)
    assert merge == started.job_name
    assert analysis == "model-quality-monitoring-" + merge.removeprefix("groundtruth-merge-")  # one suffix
    done = execution(services, started.execution_id)
    assert done.status == "CompletedWithViolations" and done.next_job is None
    assert done.processing_job_name == analysis  # the execution points at its last job, as SageMaker's
    assert job_names(services) == [merge, analysis]


def test_a_failed_merge_ends_the_execution_and_no_analysis_starts(services: Services) -> None:
    started = services.starter.start(schedule(services, "ModelQuality"), FIRE)
    assert started is not None
    run_pending(services, InMemoryExecutor({"groundtruth-merge-": fail}))
    failed = execution(services, started.execution_id)
    assert failed.status == "Failed" and failed.next_job is None
    assert failed.failure_reason.startswith("ClientError: no ground truth matched the capture.")
    assert job_names(services) == [started.job_name]


def test_a_stopped_merge_stops_the_execution(services: Services) -> None:
    started = services.starter.start(schedule(services, "ModelQuality"), FIRE)
    assert started is not None and started.job_name
    services.processing_jobs.stop(CTX, started.job_name)
    assert execution(services, started.execution_id).status == "Stopping"
    services.processing_jobs.stop_unclaimed()
    assert execution(services, started.execution_id).status == "Stopped"
    assert job_names(services) == [started.job_name]


def test_an_executor_that_times_out_fails_the_execution(services: Services) -> None:
    started = services.starter.start(schedule(services, "DataQuality"), FIRE)
    assert started is not None
    timed_out = Outcome(FAILED, failure_reason="Job exceeded MaxRuntimeInSeconds (1 s) and was stopped.")
    run_pending(services, InMemoryExecutor(lambda job: timed_out))
    failed = execution(services, started.execution_id)
    assert (failed.status, failed.failure_reason) == ("Failed", timed_out.failure_reason)


@pytest.mark.parametrize(("kind", "jobs"), [("ModelBias", ["groundtruth-merge", "model-bias-monitoring"]),
                                           ("ModelExplainability", ["model-explainability"])])
def test_clarify_types_run_through_their_plan(services: Services, kind: str, jobs: list[str]) -> None:
    started = services.starter.start(schedule(services, kind), FIRE)
    assert started is not None and started.job_name is not None
    executor = InMemoryExecutor({f"{name}-": succeed() for name in jobs})
    run_pending(services, executor)
    assert [job.name.split("-2026")[0] for job in executor.jobs] == jobs
    assert execution(services, started.execution_id).status == "Completed"
    analysis = executor.jobs[-1].request
    assert analysis["Environment"]["analysis_config"] == "/opt/ml/processing/input/config"
    assert analysis["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://bucket/analysis_config.json"


def test_a_baselining_job_that_does_not_exist_fails_the_execution_at_start(services: Services) -> None:
    services.job_definitions.create(CTX, BY_NAME["ModelBias"], {
        **job_definition_request("ModelBias", "bias-def"), "ModelBiasBaselineConfig": {"BaseliningJobName": "nope"}})
    services.schedules.create(CTX, "bias", {"ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                                            "MonitoringJobDefinitionName": "bias-def", "MonitoringType": "ModelBias"},
                              [])
    started = services.starter.start(services.schedules.find_row(CTX, "bias"), FIRE)
    assert started is not None and started.job_name is None
    failed = execution(services, started.execution_id)
    assert failed.status == "Failed"
    assert failed.failure_reason == "The baselining job nope named by this schedule's BaselineConfig does not exist."
    assert job_names(services) == []


def test_run_waits_for_the_whole_plan(services: Services) -> None:
    """What `watchkeeper run` answers: the execution's final status and the analysis job's report location."""
    schedule(services, "ModelQuality")
    executor = InMemoryExecutor({"groundtruth-merge-": succeed(), "model-quality-monitoring-": succeed()})
    status, detail = run_execution(services, CTX, "modelquality-hourly", FIRE, None, executor=executor)
    assert [job.name.split("-2026")[0] for job in executor.jobs] == ["groundtruth-merge", "model-quality-monitoring"]
    assert status == "Completed"
    assert detail.endswith("Reports: s3://bucket/reports/churn-endpoint/modelquality-hourly/2026/03/01/01")


def test_run_reports_a_failure_at_start(services: Services) -> None:
    services.job_definitions.create(CTX, BY_NAME["ModelBias"], {
        **job_definition_request("ModelBias", "bias-def"), "ModelBiasBaselineConfig": {"BaseliningJobName": "nope"}})
    services.schedules.create(CTX, "modelbias-hourly", {
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringJobDefinitionName": "bias-def",
        "MonitoringType": "ModelBias"}, [])
    status, detail = run_execution(services, CTX, "modelbias-hourly", FIRE, None, executor=InMemoryExecutor({}))
    assert status == "Failed" and "The baselining job nope" in detail
    again = run_execution(services, CTX, "modelbias-hourly", FIRE, None, executor=InMemoryExecutor({}))
    assert again[0] == "Skipped"


def test_the_typed_result_gives_the_status_not_the_message_text(services: Services) -> None:
    """A built-in job writes result.json beside its message; the execution takes its status from it."""

    def with_result(job: Job) -> int:
        succeed("Completed: Job completed successfully.")(job)
        job.root.local("/opt/ml/output/result.json").write_text('{"version": 1, "status": "CompletedWithViolations"}')
        return 0

    started = services.starter.start(schedule(services, "DataQuality"), FIRE)
    assert started is not None
    run_pending(services, InMemoryExecutor(with_result))
    assert execution(services, started.execution_id).status == "CompletedWithViolations"


def test_without_a_result_file_the_message_s_first_word_decides(services: Services) -> None:
    """Custom analyzers write no result.json: SageMaker's contract, the message, still decides."""
    started = services.starter.start(schedule(services, "DataQuality"), FIRE)
    assert started is not None
    run_pending(services, InMemoryExecutor(succeed("CompletedWithViolations: 2 violations.")))
    assert execution(services, started.execution_id).status == "CompletedWithViolations"

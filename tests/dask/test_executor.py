"""The Dask executor behind the executor interface: which jobs it takes, the files and message of a job run
on the cluster equal to the built-in analyzer's in one process, a stop, a failure, and its own LocalCluster
when a job asks for more than one instance."""

from __future__ import annotations

import json
import shutil
import sys
import threading
from pathlib import Path

import pytest

from tests.dask.conftest import table, write_csv
from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.contract import MESSAGE_FILE, JobRoot
from watchkeeper.jobs.executors.base import Job
from watchkeeper.jobs.executors.dask import DaskExecutor
from watchkeeper.jobs.executors.memory import InMemoryExecutor
from watchkeeper.jobs.toolkit.summary import JobFailed

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
CLARIFY = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"
INPUT, OUTPUT = "/opt/ml/processing/input/data", "/opt/ml/processing/output"


def staged(tmp_path: Path, name: str, data: Path, *, instances: int = 2, image: str = ANALYZER,
           renew=lambda: False, **environment: str) -> Job:
    root = JobRoot(tmp_path / name)
    request = {
        "ProcessingJobName": name,
        "AppSpecification": {"ImageUri": image},
        "Environment": {"dataset_source": INPUT, "output_path": OUTPUT,
                        "dataset_format": json.dumps({"csv": {"header": True}}), **environment},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": instances, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 20}},
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "r", "S3Output": {
            "S3Uri": "s3://b/r", "LocalPath": OUTPUT, "S3UploadMode": "EndOfJob"}}]},
    }
    root.prepare(request, f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{name}")
    shutil.copytree(data, root.local(INPUT), dirs_exist_ok=True)
    return Job(name=name, request=request, root=root,
               command=[sys.executable, "-m", "watchkeeper.jobs.worker", str(root.root)], environment={},
               network=False, max_runtime=600, log=open(root.root / "job.log", "a"), renew=renew)


def single_process(job: Job) -> str:
    """The built-in analyzer as the worker process runs it; its message."""
    environment = job.root.environment(job.request["Environment"])
    message = job.root.local(MESSAGE_FILE)
    try:
        run_environment(environment, image_uri=job.request["AppSpecification"]["ImageUri"], message_file=message)
    except JobFailed:
        pass
    return message.read_text()


@pytest.fixture
def data(tmp_path) -> Path:
    write_csv(tmp_path / "data" / "a.csv", table(5_000, 1), short_every=400)
    write_csv(tmp_path / "data" / "b.csv", table(1_000, 2))
    return tmp_path / "data"


def test_a_job_on_the_cluster_writes_what_the_worker_process_writes(cluster, tmp_path, data):
    local = InMemoryExecutor(lambda job: 99)
    executor = DaskExecutor(local, scheduler=cluster.scheduler_address, part_bytes=16 << 10)
    job = staged(tmp_path, "on-dask", data, instances=1)  # a configured scheduler takes every eligible job
    outcome = executor.run(job)
    assert (outcome.status, outcome.exit_code) == ("Completed", 0) and local.jobs == []
    reference = staged(tmp_path, "one-process", data)
    assert job.root.local(MESSAGE_FILE).read_text() == single_process(reference)
    result = json.loads(job.root.local("/opt/ml/output/result.json").read_text())
    assert result == json.loads(reference.root.local("/opt/ml/output/result.json").read_text())
    mine, theirs = job.root.local(OUTPUT), reference.root.local(OUTPUT)
    assert sorted(p.name for p in mine.iterdir()) == sorted(p.name for p in theirs.iterdir())
    assert (mine / "constraints.json").read_text() == (theirs / "constraints.json").read_text()
    assert "Running on the Dask cluster" in (job.root.root / "job.log").read_text()


def test_jobs_it_does_not_split_go_to_the_local_executor(cluster, tmp_path, data):
    local = InMemoryExecutor(lambda job: 0)
    on_cluster = DaskExecutor(local, scheduler=cluster.scheduler_address)
    without_scheduler = DaskExecutor(local)
    jobs = [
        (on_cluster, staged(tmp_path, "pre", data, record_preprocessor_script="/opt/ml/processing/code/p.py")),
        (on_cluster, staged(tmp_path, "post", data, post_analytics_processor_script="/opt/ml/code/q.py")),
        (on_cluster, staged(tmp_path, "clarify", data, image=CLARIFY)),
        (without_scheduler, staged(tmp_path, "one-instance", data, instances=1)),
    ]
    for executor, job in jobs:
        assert executor.run(job).exit_code == 0
    assert [job.name for job in local.jobs] == ["pre", "post", "clarify", "one-instance"]
    assert without_scheduler._cluster is None  # no cluster was started for them


def test_a_stop_request_ends_the_job_stopped_and_a_failure_is_the_analyzers(cluster, tmp_path, data):
    executor = DaskExecutor(InMemoryExecutor(lambda job: 0), scheduler=cluster.scheduler_address)
    stopping = staged(tmp_path, "stop", data, renew=lambda: True)
    stopping.renew_every = 0.0
    assert executor.run(stopping).status == "Stopped"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.csv").write_text("\n")
    failing = staged(tmp_path, "fail", empty)
    outcome = executor.run(failing)
    assert (outcome.status, outcome.exit_code) == ("Failed", 255)
    assert failing.root.local(MESSAGE_FILE).read_text() == single_process(staged(tmp_path, "fail-one", empty))


def test_more_than_one_instance_starts_a_local_cluster_of_worker_processes(tmp_path, data):
    executor = DaskExecutor(InMemoryExecutor(lambda job: 0), max_workers=2)
    try:
        job = staged(tmp_path, "two-instances", data, instances=2)
        outcomes = []
        # in a thread of its own, as the runner runs each job
        runner = threading.Thread(target=lambda: outcomes.append(executor.run(job)))
        runner.start()
        runner.join(timeout=240)
        assert [outcome.exit_code for outcome in outcomes] == [0]
        assert len(executor._cluster.workers) == 2
        assert "(2 workers)" in (job.root.root / "job.log").read_text()
    finally:
        executor.close()
    assert executor._cluster is None

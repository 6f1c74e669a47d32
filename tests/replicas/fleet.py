"""A fleet of `watchkeeper serve --role ...` processes on one PostgreSQL and one data folder, as docs/replicas.md
runs it, with an independent witness of every job run: each job's command reports its start and end over TCP
to a listener in the test process (the jobs run sealed off, so a file outside their folder is out of reach).

Shared by tests/replicas/ and bench/replicas.py.
"""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from tests.server_process import ServerProcess
from watchkeeper.store import Database
from watchkeeper.store.tables import monitoring_executions, processing_jobs

CUSTOM_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/witnessed-check:1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"
# The job: tell the witness it started, work a little, tell it it ended. bash's /dev/tcp needs no program.
JOB_SCRIPT = (
    'echo "start $SCHEDULE" > /dev/tcp/127.0.0.1/$WITNESS_PORT && /bin/sleep "$WORK_SECONDS" && '
    'echo "end $SCHEDULE" > /dev/tcp/127.0.0.1/$WITNESS_PORT'
)
LOST_WORKER = "stopped (crash, kill or restart) before the job finished"


def fresh_database(server_url: str) -> str:
    """A new, empty database on the same server (each fleet starts from nothing)."""
    name = f"fleet_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


class Witness:
    """Lines `start NAME` / `end NAME` received from the jobs, in arrival order, with the time they came."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str]] = []
        lines = self.lines

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    event, _, name = raw.decode().strip().partition(" ")
                    lines.append((time.monotonic(), event, name))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="witness", daemon=True).start()

    def count(self, event: str) -> Counter[str]:
        return Counter(name for _, kind, name in list(self.lines) if kind == event)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def schedule_config(name: str, endpoint: str, witness_port: int, work_seconds: float) -> dict[str, Any]:
    """A NOW schedule whose job is the witnessed script (fires once, at the next whole second)."""
    return {
        "ScheduleConfig": {
            "ScheduleExpression": "NOW",
            "DataAnalysisStartTime": "-PT1H",
            "DataAnalysisEndTime": "-PT0H",
        },
        "MonitoringJobDefinition": {
            "MonitoringInputs": [
                {"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input/endpoint"}}
            ],
            "MonitoringOutputConfig": {
                "MonitoringOutputs": [
                    {"S3Output": {"S3Uri": "s3://fleet/reports", "LocalPath": "/opt/ml/processing/output"}}
                ]
            },
            "MonitoringResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
            },
            "MonitoringAppSpecification": {
                "ImageUri": CUSTOM_IMAGE,
                "ContainerEntrypoint": ["/bin/bash", "-c", JOB_SCRIPT],
            },
            "Environment": {"SCHEDULE": name, "WITNESS_PORT": str(witness_port), "WORK_SECONDS": str(work_seconds)},
            "NetworkConfig": {"EnableNetworkIsolation": False},  # the job reaches the witness on loopback
            "RoleArn": ROLE_ARN,
        },
    }


@dataclass
class Member:
    role: str
    process: ServerProcess

    @property
    def pid(self) -> int:
        assert self.process.process is not None
        return self.process.process.pid


class Fleet:
    def __init__(self, data_dir: Path, database_url: str, counts: dict[str, int], env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.members = [
            Member(role, ServerProcess(data_dir, env=env, args=("--role", role, "--database-url", database_url)))
            for role, count in counts.items()
            for _ in range(count)
        ]
        self.engine: Engine = create_engine(database_url, pool_size=2)

    def start(self) -> Fleet:
        # The schema first (each process would wait on the migration's advisory lock), then all of them at once.
        database = Database(self.database_url)
        try:
            database.migrate()
        finally:
            database.dispose()
        with ThreadPoolExecutor(len(self.members)) as pool:
            list(pool.map(lambda m: m.process.start(timeout=90), self.members))
        return self

    def of(self, role: str) -> list[Member]:
        return [m for m in self.members if m.role == role]

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.members)) as pool:
            list(pool.map(lambda m: m.process.stop(), self.members))
        self.engine.dispose()

    def clients(self) -> list[Any]:
        return [m.process.client() for m in self.of("api")]

    def executions(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(
                        monitoring_executions.c.schedule_name,
                        monitoring_executions.c.status,
                        monitoring_executions.c.processing_job_name,
                        monitoring_executions.c.failure_reason,
                    )
                ).all()
            )

    def jobs_leased_by(self, member: Member) -> list[str]:
        """Names of the jobs the member's runner holds now (its lease owner is runner-<pid>-...)."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(processing_jobs.c.name).where(processing_jobs.c.lease_owner.like(f"runner-{member.pid}-%"))
                ).scalars()
            )


TRANSPORT_ERRORS = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectionError, socket.error)


def call_any(clients: list[Any], call: Callable[[Any], Any], dead: set[int]) -> Any:
    """Call through the first API replica that answers; one refused or dropped is skipped from then on (as a
    load balancer does). A create whose answer was lost is found already created on the retry."""
    for index, client in enumerate(clients):
        if index in dead:
            continue
        try:
            return call(client)
        except TRANSPORT_ERRORS:
            dead.add(index)
    raise RuntimeError("no API replica answered")


def create_schedules(
    clients: list[Any], names: Iterable[str], config: Callable[[str], dict[str, Any]], dead: set[int]
) -> None:
    for name in names:

        def create(client: Any, name: str = name) -> None:
            try:
                client.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=config(name))
            except ClientError as error:  # a retry after a lost answer: it exists, which is what was asked
                if error.response["Error"]["Code"] != "ResourceInUse":
                    raise

        call_any(clients, create, dead)


def capture_endpoint(client: Any, name: str) -> None:
    """An endpoint that records capture (no model server needed: the executions only need its capture place)."""
    client.create_model(ModelName=name, PrimaryContainer={"Image": "my-registry/model:1"}, ExecutionRoleArn=ROLE_ARN)
    client.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://fleet/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}],
        },
    )
    client.create_endpoint(EndpointName=name, EndpointConfigName=name)


def kill(member: Member) -> None:
    """kill -9, as a crash or an OOM kill would end it."""
    member.process.kill()


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def env_for(schedules: int, lease_seconds: float = 3, concurrent_jobs: int = 4) -> dict[str, str]:
    return {
        "WATCHKEEPER_JOB_LEASE_SECONDS": str(lease_seconds),
        "WATCHKEEPER_MAX_CONCURRENT_JOBS": str(concurrent_jobs),
        "WATCHKEEPER_MAX_MONITORING_SCHEDULES": str(schedules + 10),
        "WATCHKEEPER_SCHEDULE_ACTIVATION_SECONDS": "0.3",
        "PYTHONUNBUFFERED": "1",
        **({"WATCHKEEPER_SANDBOX": os.environ["WATCHKEEPER_SANDBOX"]} if "WATCHKEEPER_SANDBOX" in os.environ else {}),
    }

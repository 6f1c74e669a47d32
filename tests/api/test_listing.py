"""Every List operation: filters, sorts, AWS defaults (CreationTime, Descending, 10 per page), paginators.

The server is shared by all API tests, so each test gives its resources a unique prefix and filters on it.
Expected answers are computed here from what the test created (its order, names, chosen times), not read
back from the server. boto3 sends timestamps with whole-second precision; millisecond boundaries go over
raw HTTP.
"""

from __future__ import annotations

import base64
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from botocore.exceptions import ClientError
from sqlalchemy import insert

from tests.api.conftest import hourly_config, job_definition_request
from tests.server_process import ServerProcess
from tests.waiting import poll
from watchkeeper.store import Database
from watchkeeper.store.tables import monitoring_executions

ACCOUNT = "123456789012"
KINDS = {
    "DataQuality": "data_quality",
    "ModelQuality": "model_quality",
    "ModelBias": "model_bias",
    "ModelExplainability": "model_explainability",
}


def unique_prefix() -> str:
    return f"l{uuid.uuid4().hex[:10]}"


def post(server: ServerProcess, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/",
        content=orjson.dumps(body),
        headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": "application/x-amz-json-1.1"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return orjson.loads(response.content)


def create_schedules(sm: Any, names: list[str], endpoint: str = "churn-endpoint") -> None:
    for schedule in names:
        sm.create_monitoring_schedule(MonitoringScheduleName=schedule, MonitoringScheduleConfig=hourly_config(endpoint))


def schedule_names(sm: Any, **filters: Any) -> list[str]:
    """All pages, through boto3's paginator."""
    pages = sm.get_paginator("list_monitoring_schedules").paginate(**filters)
    return [s["MonitoringScheduleName"] for page in pages for s in page["MonitoringScheduleSummaries"]]


def wait_until_scheduled(sm: Any, names: list[str], timeout: float = 10.0) -> None:
    """Created schedules are Pending until the activation delay (0.3 s in tests) passes."""
    statuses = poll(
        lambda: {sm.describe_monitoring_schedule(MonitoringScheduleName=n)["MonitoringScheduleStatus"] for n in names},
        until=lambda seen: seen == {"Scheduled"},
        timeout=timeout,
        interval=0.05,
    )
    assert statuses == {"Scheduled"}, f"schedules still not Scheduled after {timeout}s: {statuses}"


# --- ListMonitoringSchedules ------------------------------------------------------------------------


def test_schedules_default_to_creation_time_descending_ten_per_page(sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{i:02d}" for i in range(12)]
    create_schedules(sm, created)
    first = sm.list_monitoring_schedules(NameContains=prefix)
    names = [s["MonitoringScheduleName"] for s in first["MonitoringScheduleSummaries"]]
    assert names == created[::-1][:10]
    assert first["NextToken"]
    second = sm.list_monitoring_schedules(NameContains=prefix, NextToken=first["NextToken"])
    assert [s["MonitoringScheduleName"] for s in second["MonitoringScheduleSummaries"]] == created[::-1][10:]
    assert "NextToken" not in second


def test_schedules_paginator_walks_every_page(sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{i}" for i in range(7)]
    create_schedules(sm, created)
    pages = list(
        sm.get_paginator("list_monitoring_schedules").paginate(
            NameContains=prefix, SortOrder="Ascending", PaginationConfig={"PageSize": 3}
        )
    )
    assert [len(p["MonitoringScheduleSummaries"]) for p in pages] == [3, 3, 1]
    assert [s["MonitoringScheduleName"] for p in pages for s in p["MonitoringScheduleSummaries"]] == created
    assert schedule_names(sm, NameContains=prefix, PaginationConfig={"MaxItems": 4}) == created[::-1][:4]


def test_schedule_summaries_carry_every_required_member(sm: Any) -> None:
    prefix = unique_prefix()
    create_schedules(sm, [prefix], endpoint=f"{prefix}-ep")
    (summary,) = sm.list_monitoring_schedules(NameContains=prefix)["MonitoringScheduleSummaries"]
    described = sm.describe_monitoring_schedule(MonitoringScheduleName=prefix)
    for member in ("MonitoringScheduleName", "MonitoringScheduleArn", "CreationTime", "LastModifiedTime"):
        assert summary[member] == described[member]
    assert summary["MonitoringScheduleStatus"] in ("Pending", "Scheduled")
    assert summary["EndpointName"] == f"{prefix}-ep"
    assert summary["MonitoringType"] == "DataQuality"


def test_schedules_sort_by_name(sm: Any) -> None:
    prefix = unique_prefix()
    suffixes = ["delta", "alpha", "charlie", "echo", "bravo"]
    created = [f"{prefix}-{s}" for s in suffixes]
    create_schedules(sm, created)
    assert schedule_names(sm, NameContains=prefix, SortBy="Name", SortOrder="Ascending") == sorted(created)
    assert schedule_names(sm, NameContains=prefix, SortBy="Name") == sorted(created, reverse=True)
    paged = schedule_names(
        sm, NameContains=prefix, SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    assert paged == sorted(created)


def test_schedules_name_contains_matches_any_part_of_the_name(sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-red-one", f"{prefix}-blue-two", f"Other-{prefix}-Red-three"]
    create_schedules(sm, created)
    assert set(schedule_names(sm, NameContains=prefix)) == set(created)
    assert set(schedule_names(sm, NameContains=f"{prefix}-blue")) == {created[1]}
    assert set(schedule_names(sm, NameContains=f"{prefix}-red-o")) == {created[0]}
    assert schedule_names(sm, NameContains=f"{prefix}-green") == []
    # Names are case-insensitive in SageMaker; so is the fragment ('Red' and 'red' both match).
    assert set(schedule_names(sm, NameContains=f"{prefix}-RED")) == {created[0], created[2]}
    assert set(schedule_names(sm, NameContains=f"other-{prefix}")) == {created[2]}


def test_schedules_status_filter_and_sort(sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{i}" for i in range(4)]
    create_schedules(sm, created)
    wait_until_scheduled(sm, created)
    stopped = [created[0], created[2]]
    for schedule in stopped:
        sm.stop_monitoring_schedule(MonitoringScheduleName=schedule)
    scheduled = [created[1], created[3]]

    assert set(schedule_names(sm, NameContains=prefix, StatusEquals="Stopped")) == set(stopped)
    assert set(schedule_names(sm, NameContains=prefix, StatusEquals="Scheduled")) == set(scheduled)
    assert schedule_names(sm, NameContains=prefix, StatusEquals="Failed") == []

    pages = sm.get_paginator("list_monitoring_schedules").paginate(
        NameContains=prefix, SortBy="Status", SortOrder="Ascending"
    )
    statuses = [s["MonitoringScheduleStatus"] for p in pages for s in p["MonitoringScheduleSummaries"]]
    assert statuses == ["Scheduled", "Scheduled", "Stopped", "Stopped"]
    pages = sm.get_paginator("list_monitoring_schedules").paginate(NameContains=prefix, SortBy="Status")
    statuses = [s["MonitoringScheduleStatus"] for p in pages for s in p["MonitoringScheduleSummaries"]]
    assert statuses == ["Stopped", "Stopped", "Scheduled", "Scheduled"]


def test_schedules_endpoint_filter(sm: Any) -> None:
    prefix = unique_prefix()
    on_a = [f"{prefix}-a1", f"{prefix}-a2"]
    on_b = [f"{prefix}-b1"]
    create_schedules(sm, on_a, endpoint=f"{prefix}-endpoint-a")
    create_schedules(sm, on_b, endpoint=f"{prefix}-endpoint-b")
    assert schedule_names(sm, EndpointName=f"{prefix}-endpoint-a") == on_a[::-1]
    assert schedule_names(sm, EndpointName=f"{prefix}-endpoint-b") == on_b
    # Endpoint names are case-insensitive (spec §1.1).
    assert schedule_names(sm, EndpointName=f"{prefix}-ENDPOINT-A".upper()) == on_a[::-1]
    assert schedule_names(sm, EndpointName=f"{prefix}-endpoint-c") == []


def test_schedules_creation_time_filters_via_boto3(sm: Any) -> None:
    prefix = unique_prefix()
    create_schedules(sm, [prefix])
    created = sm.describe_monitoring_schedule(MonitoringScheduleName=prefix)["CreationTime"]
    minute_before = datetime.fromtimestamp(created.timestamp() - 60, UTC)
    minute_after = datetime.fromtimestamp(created.timestamp() + 60, UTC)
    assert schedule_names(sm, NameContains=prefix, CreationTimeAfter=minute_before) == [prefix]
    assert schedule_names(sm, NameContains=prefix, CreationTimeBefore=minute_after) == [prefix]
    assert schedule_names(sm, NameContains=prefix, CreationTimeBefore=minute_before) == []
    assert schedule_names(sm, NameContains=prefix, CreationTimeAfter=minute_after) == []
    assert schedule_names(sm, NameContains=prefix, LastModifiedTimeAfter=minute_before) == [prefix]
    assert schedule_names(sm, NameContains=prefix, LastModifiedTimeBefore=minute_before) == []


def test_schedules_time_filters_are_strict_at_millisecond_boundaries(server: ServerProcess, sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{i}" for i in range(3)]
    for schedule in created:
        create_schedules(sm, [schedule])
        time.sleep(0.005)  # distinct millisecond creation times
    times = [post(server, "DescribeMonitoringSchedule", {"MonitoringScheduleName": n})["CreationTime"] for n in created]
    assert times == sorted(times) and len(set(times)) == 3

    def listed(**filters: Any) -> list[str]:
        body = {"NameContains": prefix, "SortOrder": "Ascending", **filters}
        return [
            s["MonitoringScheduleName"]
            for s in post(server, "ListMonitoringSchedules", body)["MonitoringScheduleSummaries"]
        ]

    assert listed(CreationTimeAfter=times[0]) == created[1:]
    assert listed(CreationTimeBefore=times[2]) == created[:2]
    assert listed(CreationTimeAfter=times[0], CreationTimeBefore=times[2]) == [created[1]]
    assert listed(CreationTimeAfter=times[2]) == []


def test_schedules_last_modified_time_filters(server: ServerProcess, sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{i}" for i in range(3)]
    create_schedules(sm, created)
    time.sleep(0.01)
    sm.stop_monitoring_schedule(MonitoringScheduleName=created[1])
    described = {n: post(server, "DescribeMonitoringSchedule", {"MonitoringScheduleName": n}) for n in created}
    newest_untouched = max(described[n]["LastModifiedTime"] for n in (created[0], created[2]))
    assert described[created[1]]["LastModifiedTime"] > newest_untouched

    body = {"NameContains": prefix, "LastModifiedTimeAfter": newest_untouched}
    summaries = post(server, "ListMonitoringSchedules", body)["MonitoringScheduleSummaries"]
    assert [s["MonitoringScheduleName"] for s in summaries] == [created[1]]
    body = {"NameContains": prefix, "LastModifiedTimeBefore": described[created[1]]["LastModifiedTime"]}
    summaries = post(server, "ListMonitoringSchedules", body)["MonitoringScheduleSummaries"]
    assert {s["MonitoringScheduleName"] for s in summaries} == {created[0], created[2]}


@pytest.fixture(scope="module")
def typed_schedules(sm: Any) -> Iterator[dict[str, str]]:
    """One schedule per monitoring type, the last three through named job definitions."""
    prefix = unique_prefix()
    names = {"DataQuality": f"{prefix}-inline-dq"}
    create_schedules(sm, [names["DataQuality"]], endpoint=f"{prefix}-ep")
    for kind in ("ModelQuality", "ModelBias", "ModelExplainability"):
        definition = f"{prefix}-{kind.lower()}-def"
        getattr(sm, f"create_{KINDS[kind]}_job_definition")(
            **job_definition_request(kind, definition, endpoint=f"{prefix}-ep")
        )
        names[kind] = f"{prefix}-{kind.lower()}"
        sm.create_monitoring_schedule(
            MonitoringScheduleName=names[kind],
            MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinitionName": definition,
                "MonitoringType": kind,
            },
        )
    yield {"prefix": prefix, **names}


@pytest.mark.parametrize("kind", list(KINDS))
def test_schedules_monitoring_type_filter(sm: Any, typed_schedules: dict[str, str], kind: str) -> None:
    prefix = typed_schedules["prefix"]
    assert schedule_names(sm, NameContains=prefix, MonitoringTypeEquals=kind) == [typed_schedules[kind]]
    (summary,) = sm.list_monitoring_schedules(NameContains=prefix, MonitoringTypeEquals=kind)[
        "MonitoringScheduleSummaries"
    ]
    assert summary["MonitoringType"] == kind
    assert summary["EndpointName"] == f"{prefix}-ep"


def test_schedules_job_definition_name_filter(sm: Any, typed_schedules: dict[str, str]) -> None:
    prefix = typed_schedules["prefix"]
    definition = f"{prefix}-modelbias-def"
    assert schedule_names(sm, MonitoringJobDefinitionName=definition) == [typed_schedules["ModelBias"]]
    (summary,) = sm.list_monitoring_schedules(MonitoringJobDefinitionName=definition)["MonitoringScheduleSummaries"]
    assert summary["MonitoringJobDefinitionName"] == definition
    assert schedule_names(sm, MonitoringJobDefinitionName=f"{prefix}-missing-def") == []
    # Filters combine: the right definition but another type matches nothing.
    assert schedule_names(sm, MonitoringJobDefinitionName=definition, MonitoringTypeEquals="ModelQuality") == []
    assert set(schedule_names(sm, EndpointName=f"{prefix}-ep")) == {typed_schedules[k] for k in KINDS}


# --- List<Type>JobDefinitions ---------------------------------------------------------------------------


def definition_names(sm: Any, kind: str, **filters: Any) -> list[str]:
    pages = sm.get_paginator(f"list_{KINDS[kind]}_job_definitions").paginate(**filters)
    return [d["MonitoringJobDefinitionName"] for page in pages for d in page["JobDefinitionSummaries"]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_job_definitions_sorts_defaults_and_pages(sm: Any, kind: str) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{s}" for s in random.Random(kind).sample(["k", "c", "x", "a", "m"], 5)]
    for definition in created:
        getattr(sm, f"create_{KINDS[kind]}_job_definition")(**job_definition_request(kind, definition))
    assert definition_names(sm, kind, NameContains=prefix) == created[::-1]
    assert definition_names(sm, kind, NameContains=prefix, SortOrder="Ascending") == created
    assert definition_names(sm, kind, NameContains=prefix, SortBy="Name", SortOrder="Ascending") == sorted(created)
    assert definition_names(sm, kind, NameContains=prefix, SortBy="Name") == sorted(created, reverse=True)

    lister = getattr(sm, f"list_{KINDS[kind]}_job_definitions")
    first = lister(NameContains=prefix, MaxResults=2)
    assert [d["MonitoringJobDefinitionName"] for d in first["JobDefinitionSummaries"]] == created[::-1][:2]
    pages = list(
        sm.get_paginator(f"list_{KINDS[kind]}_job_definitions").paginate(
            NameContains=prefix, PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["JobDefinitionSummaries"]) for p in pages] == [2, 2, 1]


def test_job_definitions_default_page_is_ten(sm: Any) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-{i:02d}" for i in range(11)]
    for definition in created:
        sm.create_data_quality_job_definition(**job_definition_request("DataQuality", definition))
    first = sm.list_data_quality_job_definitions(NameContains=prefix)
    assert [d["MonitoringJobDefinitionName"] for d in first["JobDefinitionSummaries"]] == created[::-1][:10]
    rest = sm.list_data_quality_job_definitions(NameContains=prefix, NextToken=first["NextToken"])
    assert [d["MonitoringJobDefinitionName"] for d in rest["JobDefinitionSummaries"]] == created[:1]


@pytest.mark.parametrize("kind", list(KINDS))
def test_job_definitions_filters(server: ServerProcess, sm: Any, kind: str) -> None:
    prefix = unique_prefix()
    created = [f"{prefix}-one", f"{prefix}-two", f"{prefix}-three"]
    endpoints = [f"{prefix}-ep-a", f"{prefix}-ep-b", f"{prefix}-ep-a"]
    for definition, endpoint in zip(created, endpoints, strict=True):
        getattr(sm, f"create_{KINDS[kind]}_job_definition")(**job_definition_request(kind, definition, endpoint))
        time.sleep(0.005)  # distinct millisecond creation times

    assert definition_names(sm, kind, NameContains=f"{prefix}-t") == [created[2], created[1]]
    assert definition_names(sm, kind, NameContains=f"{prefix}-ONE") == [created[0]]
    assert definition_names(sm, kind, EndpointName=f"{prefix}-ep-a") == [created[2], created[0]]
    assert definition_names(sm, kind, EndpointName=f"{prefix}-ep-c") == []

    (summary,) = getattr(sm, f"list_{KINDS[kind]}_job_definitions")(NameContains=f"{prefix}-two")[
        "JobDefinitionSummaries"
    ]
    described = getattr(sm, f"describe_{KINDS[kind]}_job_definition")(JobDefinitionName=f"{prefix}-two")
    assert summary["MonitoringJobDefinitionArn"] == described["JobDefinitionArn"]
    assert summary["CreationTime"] == described["CreationTime"]
    assert summary["EndpointName"] == f"{prefix}-ep-b"

    times = [post(server, f"Describe{kind}JobDefinition", {"JobDefinitionName": d})["CreationTime"] for d in created]
    listed = post(
        server,
        f"List{kind}JobDefinitions",
        {"NameContains": prefix, "CreationTimeAfter": times[0], "CreationTimeBefore": times[2]},
    )["JobDefinitionSummaries"]
    assert [d["MonitoringJobDefinitionName"] for d in listed] == [created[1]]
    hour_ago = datetime.fromtimestamp(times[0] - 3600, UTC)
    assert definition_names(sm, kind, NameContains=prefix, CreationTimeBefore=hour_ago) == []
    assert len(definition_names(sm, kind, NameContains=prefix, CreationTimeAfter=hour_ago)) == 3


def test_job_definition_lists_are_per_type(sm: Any) -> None:
    prefix = unique_prefix()
    sm.create_model_quality_job_definition(**job_definition_request("ModelQuality", f"{prefix}-mq"))
    sm.create_model_bias_job_definition(**job_definition_request("ModelBias", f"{prefix}-mb"))
    assert definition_names(sm, "ModelQuality", NameContains=prefix) == [f"{prefix}-mq"]
    assert definition_names(sm, "ModelBias", NameContains=prefix) == [f"{prefix}-mb"]
    assert definition_names(sm, "DataQuality", NameContains=prefix) == []
    assert definition_names(sm, "ModelExplainability", NameContains=prefix) == []


# --- bad NextToken --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "list_monitoring_schedules",
        "list_monitoring_executions",
        "list_data_quality_job_definitions",
        "list_model_quality_job_definitions",
        "list_model_bias_job_definitions",
        "list_model_explainability_job_definitions",
    ],
)
@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "%%%",
        base64.urlsafe_b64encode(b"null").decode(),
        base64.urlsafe_b64encode(b'{"offset": -5}').decode(),
        base64.urlsafe_b64encode(b'{"offset": "10"}').decode(),
        base64.urlsafe_b64encode(b'{"offset": 9223372036854775808}').decode(),  # past SQL's 64-bit OFFSET
    ],
)
def test_bad_next_token_is_a_validation_exception(sm: Any, method: str, token: str) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(sm, method)(NextToken=token)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# --- ListMonitoringExecutions, over rows inserted into the server's store -----------------------------------

STATUSES = ["Pending", "Completed", "CompletedWithViolations", "InProgress", "Failed", "Stopping", "Stopped"]
HOUR = 3600.0
BASE = 1_700_000_000.0  # whole seconds, so boto3's second-precision timestamps hit the boundaries exactly


@dataclass(frozen=True)
class Execution:
    schedule: str
    scheduled: float
    created: float
    modified: float
    status: str
    endpoint: str
    definition: str | None
    kind: str

    def row(self, region: str = "us-east-1") -> dict[str, Any]:
        job = f"model-monitoring-{int(self.scheduled)}-{self.schedule[-8:]}".lower()
        return {
            "account": ACCOUNT,
            "region": region,
            "schedule_name": self.schedule,
            "schedule_key": self.schedule.lower(),
            "scheduled_time": self.scheduled,
            "creation_time": self.created,
            "last_modified_time": self.modified,
            "status": self.status,
            "processing_job_arn": f"arn:aws:sagemaker:{region}:{ACCOUNT}:processing-job/{job}",
            "endpoint_name": self.endpoint,
            "failure_reason": "Job inputs had no data" if self.status == "Failed" else None,
            "job_definition_name": self.definition,
            "monitoring_type": self.kind,
        }


@pytest.fixture(scope="module")
def executions(server: ServerProcess) -> Iterator[tuple[str, list[Execution]]]:
    """Fourteen executions of one schedule (two per status), and decoys in another region and schedule."""
    schedule = f"Exec-{uuid.uuid4().hex[:10]}"
    kinds = list(KINDS)
    rows: list[Execution] = []
    for i in range(14):
        scheduled = BASE + i * HOUR
        rows.append(
            Execution(
                schedule=schedule,
                scheduled=scheduled,
                # Creation order differs from fire-time order, so the two sorts are distinguishable.
                created=scheduled + 60 + (13 - i) * 7 if i % 3 == 0 else scheduled + 60,
                modified=scheduled + 600 + (i % 4) * 60,
                status=STATUSES[i % len(STATUSES)],
                endpoint=f"{schedule}-ep-{i % 2}",
                definition=f"{schedule}-def" if i % 2 else None,
                kind=kinds[i % 4],
            )
        )
    decoy_other_region = Execution(
        schedule,
        BASE + 99 * HOUR,
        BASE + 99 * HOUR,
        BASE + 99 * HOUR,
        "Completed",
        f"{schedule}-ep-0",
        None,
        "DataQuality",
    )
    decoy_other_schedule = Execution(
        f"{schedule}-other",
        BASE,
        BASE,
        BASE,
        "Completed",
        f"{schedule}-ep-0",
        f"{schedule}-def",
        "ModelQuality",
    )
    db = Database(f"sqlite:///{(server.data_dir / 'watchkeeper.db').resolve()}")
    try:
        with db.write() as conn:
            conn.execute(insert(monitoring_executions), [e.row() for e in rows])
            conn.execute(
                insert(monitoring_executions),
                [decoy_other_region.row("eu-west-1"), decoy_other_schedule.row()],
            )
    finally:
        db.dispose()
    yield schedule, rows


def execution_keys(sm: Any, **filters: Any) -> list[float]:
    """Scheduled times (epoch seconds) of every listed execution, in order, through the paginator."""
    pages = sm.get_paginator("list_monitoring_executions").paginate(**filters)
    return [s["ScheduledTime"].timestamp() for p in pages for s in p["MonitoringExecutionSummaries"]]


def ordered(rows: list[Execution], key: str, descending: bool) -> list[float]:
    # The server breaks ties by insertion order, which is fire-time order here.
    indexed = sorted(enumerate(rows), key=lambda pair: (getattr(pair[1], key), pair[0]), reverse=descending)
    return [e.scheduled for _, e in indexed]


def test_executions_default_sort_and_page_size(sm: Any, executions: tuple[str, list[Execution]]) -> None:
    schedule, rows = executions
    first = sm.list_monitoring_executions(MonitoringScheduleName=schedule)
    summaries = first["MonitoringExecutionSummaries"]
    assert [s["ScheduledTime"].timestamp() for s in summaries] == ordered(rows, "created", True)[:10]
    assert first["NextToken"]
    assert execution_keys(sm, MonitoringScheduleName=schedule) == ordered(rows, "created", True)


def test_executions_paginator_page_size(sm: Any, executions: tuple[str, list[Execution]]) -> None:
    schedule, rows = executions
    pages = list(
        sm.get_paginator("list_monitoring_executions").paginate(
            MonitoringScheduleName=schedule, SortOrder="Ascending", PaginationConfig={"PageSize": 4}
        )
    )
    assert [len(p["MonitoringExecutionSummaries"]) for p in pages] == [4, 4, 4, 2]
    listed = [s["ScheduledTime"].timestamp() for p in pages for s in p["MonitoringExecutionSummaries"]]
    assert listed == ordered(rows, "created", False)


@pytest.mark.parametrize(("sort_by", "key"), [("CreationTime", "created"), ("ScheduledTime", "scheduled")])
@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_executions_sort_by_time(
    sm: Any, executions: tuple[str, list[Execution]], sort_by: str, key: str, order: str
) -> None:
    schedule, rows = executions
    listed = execution_keys(sm, MonitoringScheduleName=schedule, SortBy=sort_by, SortOrder=order)
    assert listed == ordered(rows, key, order == "Descending")


@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_executions_sort_by_status(sm: Any, executions: tuple[str, list[Execution]], order: str) -> None:
    schedule, rows = executions
    pages = sm.get_paginator("list_monitoring_executions").paginate(
        MonitoringScheduleName=schedule, SortBy="Status", SortOrder=order
    )
    statuses = [s["MonitoringExecutionStatus"] for p in pages for s in p["MonitoringExecutionSummaries"]]
    assert statuses == sorted((e.status for e in rows), reverse=order == "Descending")


@pytest.mark.parametrize("status", STATUSES)
def test_executions_status_filter(sm: Any, executions: tuple[str, list[Execution]], status: str) -> None:
    schedule, rows = executions
    listed = execution_keys(sm, MonitoringScheduleName=schedule, StatusEquals=status, SortBy="ScheduledTime")
    assert listed == sorted((e.scheduled for e in rows if e.status == status), reverse=True)


def test_executions_schedule_name_is_case_insensitive(sm: Any, executions: tuple[str, list[Execution]]) -> None:
    schedule, rows = executions
    assert len(execution_keys(sm, MonitoringScheduleName=schedule.upper())) == len(rows)
    assert execution_keys(sm, MonitoringScheduleName=f"{schedule}-none") == []


def test_executions_endpoint_definition_and_type_filters(sm: Any, executions: tuple[str, list[Execution]]) -> None:
    schedule, rows = executions

    def expect(predicate: Any) -> list[float]:
        return sorted((e.scheduled for e in rows if predicate(e)), reverse=True)

    by_time = {"SortBy": "ScheduledTime"}
    endpoint = f"{schedule}-ep-1"
    assert execution_keys(sm, MonitoringScheduleName=schedule, EndpointName=endpoint, **by_time) == expect(
        lambda e: e.endpoint == endpoint
    )
    # Without the schedule filter, the endpoint alone selects (and includes the other schedule's run).
    all_on_ep0 = execution_keys(sm, EndpointName=f"{schedule}-ep-0", **by_time)
    assert len(all_on_ep0) == len(expect(lambda e: e.endpoint == f"{schedule}-ep-0")) + 1

    definition = f"{schedule}-def"
    assert execution_keys(
        sm, MonitoringScheduleName=schedule, MonitoringJobDefinitionName=definition, **by_time
    ) == expect(lambda e: e.definition == definition)
    for kind in KINDS:
        assert execution_keys(sm, MonitoringScheduleName=schedule, MonitoringTypeEquals=kind, **by_time) == expect(
            lambda e, kind=kind: e.kind == kind
        )
    combined = execution_keys(
        sm,
        MonitoringScheduleName=schedule,
        EndpointName=endpoint,
        MonitoringTypeEquals="ModelQuality",
        **by_time,
    )
    assert combined == expect(lambda e: e.endpoint == endpoint and e.kind == "ModelQuality")


@pytest.mark.parametrize(
    ("prefix", "key"),
    [("ScheduledTime", "scheduled"), ("CreationTime", "created"), ("LastModifiedTime", "modified")],
)
def test_executions_time_filters(sm: Any, executions: tuple[str, list[Execution]], prefix: str, key: str) -> None:
    schedule, rows = executions
    values = sorted(getattr(e, key) for e in rows)
    low, high = values[3], values[10]
    as_dt = {v: datetime.fromtimestamp(v, UTC) for v in (low, high)}

    def expect(predicate: Any) -> list[float]:
        return sorted((e.scheduled for e in rows if predicate(getattr(e, key))), reverse=True)

    base = {"MonitoringScheduleName": schedule, "SortBy": "ScheduledTime"}
    assert execution_keys(sm, **base, **{f"{prefix}After": as_dt[low]}) == expect(lambda v: v > low)
    assert execution_keys(sm, **base, **{f"{prefix}Before": as_dt[high]}) == expect(lambda v: v < high)
    both = {f"{prefix}After": as_dt[low], f"{prefix}Before": as_dt[high]}
    assert execution_keys(sm, **base, **both) == expect(lambda v: low < v < high)


def test_execution_summaries_carry_their_members(sm: Any, executions: tuple[str, list[Execution]]) -> None:
    schedule, rows = executions
    by_scheduled = {e.scheduled: e for e in rows}
    pages = sm.get_paginator("list_monitoring_executions").paginate(MonitoringScheduleName=schedule)
    for summary in (s for p in pages for s in p["MonitoringExecutionSummaries"]):
        expected = by_scheduled[summary["ScheduledTime"].timestamp()]
        row = expected.row()
        assert summary["MonitoringScheduleName"] == schedule
        assert summary["CreationTime"].timestamp() == expected.created
        assert summary["LastModifiedTime"].timestamp() == expected.modified
        assert summary["MonitoringExecutionStatus"] == expected.status
        assert summary["ProcessingJobArn"] == row["processing_job_arn"]
        assert summary["EndpointName"] == expected.endpoint
        assert summary["MonitoringType"] == expected.kind
        assert summary.get("MonitoringJobDefinitionName") == expected.definition
        assert summary.get("FailureReason") == row["failure_reason"]


def test_executions_are_scoped_to_the_region(server: ServerProcess, executions: tuple[str, list[Execution]]) -> None:
    schedule, _ = executions
    eu = server.client(region="eu-west-1")
    summaries = eu.list_monitoring_executions(MonitoringScheduleName=schedule)["MonitoringExecutionSummaries"]
    assert [s["ScheduledTime"].timestamp() for s in summaries] == [BASE + 99 * HOUR]

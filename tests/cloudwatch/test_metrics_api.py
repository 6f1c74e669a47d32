"""PutMetricData, ListMetrics, GetMetricStatistics and GetMetricData through the real boto3 client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.cloudwatch.conftest import ALICE, BOB, error_of
from tests.server_process import ServerProcess
from tests.signing import SigV4

# A whole hour, an hour ago (points may be at most two weeks old and two hours ahead).
BASE = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def dims(**pairs: str) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in pairs.items()]


def test_statistics_in_period_buckets(cw: Any) -> None:
    endpoint = dims(Endpoint="churn", MonitoringSchedule="hourly")
    cw.put_metric_data(
        Namespace="Stats/Buckets",
        MetricData=[
            {"MetricName": "latency", "Dimensions": endpoint, "Timestamp": at(1), "Value": 10.0},
            {"MetricName": "latency", "Dimensions": endpoint, "Timestamp": at(2), "Value": 30.0},
            {"MetricName": "latency", "Dimensions": endpoint, "Timestamp": at(4.5), "Value": 5.0},
            {
                "MetricName": "latency",
                "Dimensions": list(reversed(endpoint)),  # dimension order does not matter
                "Timestamp": at(6),
                "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 1, "Maximum": 60},
            },
            {"MetricName": "latency", "Dimensions": endpoint, "Timestamp": at(7), "Values": [2, 8], "Counts": [3, 1]},
            # Another series (other dimensions) and a point outside the range.
            {"MetricName": "latency", "Dimensions": dims(Endpoint="churn"), "Timestamp": at(1), "Value": 999.0},
            {"MetricName": "latency", "Dimensions": endpoint, "Timestamp": at(20), "Value": 999.0},
        ],
    )
    answer = cw.get_metric_statistics(
        Namespace="Stats/Buckets",
        MetricName="latency",
        Dimensions=endpoint,
        StartTime=at(0),
        EndTime=at(10),
        Period=300,
        Statistics=["Average", "Sum", "Minimum", "Maximum", "SampleCount"],
    )
    assert answer["Label"] == "latency"
    points = sorted(answer["Datapoints"], key=lambda d: d["Timestamp"])
    assert [p["Timestamp"] for p in points] == [at(0), at(5)]
    first, second = points
    assert (first["SampleCount"], first["Sum"], first["Minimum"], first["Maximum"]) == (3, 45, 5, 30)
    assert first["Average"] == 15 and first["Unit"] == "None"
    # (4, 100, 1, 60) with 2 three times and 8 once: 8 samples, sum 114.
    assert (second["SampleCount"], second["Sum"], second["Minimum"], second["Maximum"]) == (8, 114, 1, 60)
    assert second["Average"] == pytest.approx(114 / 8)

    one_minute = cw.get_metric_statistics(
        Namespace="Stats/Buckets", MetricName="latency", Dimensions=endpoint,
        StartTime=at(0), EndTime=at(3), Period=60, Statistics=["Maximum"],
    )["Datapoints"]
    assert sorted((p["Timestamp"], p["Maximum"]) for p in one_minute) == [(at(1), 10), (at(2), 30)]
    assert "Sum" not in one_minute[0]

    # Exactly the dimensions asked for: the Endpoint-only series is another metric.
    only = cw.get_metric_statistics(
        Namespace="Stats/Buckets", MetricName="latency", Dimensions=dims(Endpoint="churn"),
        StartTime=at(0), EndTime=at(60), Period=3600, Statistics=["Sum"],
    )["Datapoints"]
    assert [p["Sum"] for p in only] == [999]
    none = cw.get_metric_statistics(
        Namespace="Stats/Buckets", MetricName="latency",
        StartTime=at(0), EndTime=at(60), Period=3600, Statistics=["Sum"],
    )["Datapoints"]
    assert none == []


def test_units_filter_and_split(cw: Any) -> None:
    cw.put_metric_data(
        Namespace="Stats/Units",
        MetricData=[
            {"MetricName": "size", "Timestamp": at(1), "Value": 1.0, "Unit": "Bytes"},
            {"MetricName": "size", "Timestamp": at(2), "Value": 5.0, "Unit": "Kilobytes"},
        ],
    )
    kwargs = dict(Namespace="Stats/Units", MetricName="size", StartTime=at(0), EndTime=at(60), Period=3600,
                  Statistics=["Sum"])
    both = cw.get_metric_statistics(**kwargs)["Datapoints"]
    assert sorted((p["Unit"], p["Sum"]) for p in both) == [("Bytes", 1), ("Kilobytes", 5)]
    kb = cw.get_metric_statistics(**kwargs, Unit="Kilobytes")["Datapoints"]
    assert [(p["Unit"], p["Sum"]) for p in kb] == [("Kilobytes", 5)]


def test_list_metrics_filters(cw: Any) -> None:
    cw.put_metric_data(
        Namespace="List/One",
        MetricData=[
            {"MetricName": "a", "Dimensions": dims(Endpoint="e1", MonitoringSchedule="s1"), "Value": 1.0},
            {"MetricName": "a", "Dimensions": dims(Endpoint="e2", MonitoringSchedule="s1"), "Value": 1.0},
            {"MetricName": "b", "Dimensions": dims(Endpoint="e1"), "Value": 1.0},
            {"MetricName": "a", "Dimensions": dims(Endpoint="e1", MonitoringSchedule="s1"), "Value": 2.0},
        ],
    )
    cw.put_metric_data(Namespace="List/Two", MetricData=[{"MetricName": "a", "Value": 1.0}])

    def listed(**kwargs: Any) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
        metrics = cw.list_metrics(**kwargs)["Metrics"]
        return sorted(
            (m["Namespace"], m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
            for m in metrics
        )

    assert listed(Namespace="List/One") == [
        ("List/One", "a", (("Endpoint", "e1"), ("MonitoringSchedule", "s1"))),
        ("List/One", "a", (("Endpoint", "e2"), ("MonitoringSchedule", "s1"))),
        ("List/One", "b", (("Endpoint", "e1"),)),
    ]
    assert [m[1] for m in listed(Namespace="List/One", MetricName="b")] == ["b"]
    assert len(listed(Namespace="List/One", Dimensions=[{"Name": "Endpoint", "Value": "e1"}])) == 2
    assert len(listed(Namespace="List/One", Dimensions=[{"Name": "MonitoringSchedule"}])) == 2
    assert listed(Namespace="List/One", Dimensions=[{"Name": "Endpoint", "Value": "nope"}]) == []
    assert [m[0] for m in listed(MetricName="a") if m[0].startswith("List/")] == ["List/One", "List/One", "List/Two"]
    assert len(listed(Namespace="List/One", RecentlyActive="PT3H")) == 3
    linked = cw.list_metrics(Namespace="List/Two", IncludeLinkedAccounts=True)
    assert linked["OwningAccounts"] == ["111111111111"]


def test_list_metrics_pages_of_500(cw: Any) -> None:
    for start in range(0, 1100, 1000):
        cw.put_metric_data(
            Namespace="List/Many",
            MetricData=[{"MetricName": f"m{i:04d}", "Value": 1.0} for i in range(start, min(start + 1000, 1100))],
        )
    first = cw.list_metrics(Namespace="List/Many")
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace="List/Many"))
    names = [m["MetricName"] for page in pages for m in page["Metrics"]]
    assert len(pages) == 3 and sorted(names) == [f"m{i:04d}" for i in range(1100)]
    assert error_of(cw.list_metrics, Namespace="List/Many", NextToken="garbage!")["Code"] == "InvalidParameterValue"


def test_get_metric_data_several_queries_and_pages(cw: Any) -> None:
    cw.put_metric_data(
        Namespace="Data/Q",
        MetricData=[{"MetricName": "x", "Timestamp": at(m), "Value": float(m)} for m in range(10)]
        + [
            {"MetricName": "y", "Dimensions": dims(K="v"), "Timestamp": at(m), "Value": 2.0 * m}
            for m in range(0, 10, 2)
        ],
    )

    def query(qid: str, name: str, stat: str, period: int = 60, **extra: Any) -> dict[str, Any]:
        metric: dict[str, Any] = {"Namespace": "Data/Q", "MetricName": name}
        if name == "y":
            metric["Dimensions"] = dims(K="v")
        return {"Id": qid, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, **extra}

    answer = cw.get_metric_data(
        MetricDataQueries=[
            query("x1", "x", "Average"),
            query("y5", "y", "Sum", period=300, Label="y per 5 min"),
            query("hidden", "x", "Sum", ReturnData=False),
        ],
        StartTime=at(0),
        EndTime=at(10),
        ScanBy="TimestampAscending",
    )
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"x1", "y5"} and "NextToken" not in answer
    assert results["x1"]["Label"] == "x" and results["x1"]["StatusCode"] == "Complete"
    assert results["x1"]["Timestamps"] == [at(m) for m in range(10)]
    assert results["x1"]["Values"] == [float(m) for m in range(10)]
    assert results["y5"]["Label"] == "y per 5 min"
    assert results["y5"]["Timestamps"] == [at(0), at(5)] and results["y5"]["Values"] == [0 + 4 + 8, 12 + 16]

    descending = cw.get_metric_data(
        MetricDataQueries=[query("x1", "x", "Maximum")], StartTime=at(0), EndTime=at(10)
    )["MetricDataResults"][0]
    assert descending["Values"] == [float(m) for m in reversed(range(10))]

    # 12 datapoints in pages of 5: the paginator joins them.
    pages = list(
        cw.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[query("x1", "x", "Sum"), query("y1", "y", "Sum")],
            StartTime=at(0), EndTime=at(10), ScanBy="TimestampAscending",
            PaginationConfig={"PageSize": 5},
        )
    )
    assert len(pages) == 3
    joined: dict[str, list[float]] = {}
    for page in pages:
        for result in page["MetricDataResults"]:
            joined.setdefault(result["Id"], []).extend(result["Values"])
    assert joined == {"x1": [float(m) for m in range(10)], "y1": [2.0 * m for m in range(0, 10, 2)]}
    assert pages[0]["MetricDataResults"][0]["StatusCode"] == "PartialData"
    token = pages[0]["NextToken"]
    bad = error_of(
        cw.get_metric_data, MetricDataQueries=[query("x1", "x", "Minimum")], StartTime=at(0), EndTime=at(10),
        NextToken=token,
    )
    assert bad["Code"] == "InvalidNextToken"


def test_validation_errors(cw: Any) -> None:
    def put(**datum: Any) -> dict[str, Any]:
        return error_of(cw.put_metric_data, Namespace="Bad/Put", MetricData=[{"MetricName": "m", **datum}])

    both = put(Value=1.0, StatisticValues={"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1})
    assert both["Code"] == "InvalidParameterCombination" and "mutually exclusive" in both["Message"]
    assert put()["Code"] == "InvalidParameterCombination"
    future = put(Value=1.0, Timestamp=datetime.now(UTC) + timedelta(hours=3))
    assert future["Code"] == "InvalidParameterValue" and "two hours in the future" in future["Message"]
    old = put(Value=1.0, Timestamp=datetime.now(UTC) - timedelta(days=15))
    assert old["Code"] == "InvalidParameterValue" and "two weeks" in old["Message"]
    assert put(Value=1e200)["Code"] == "InvalidParameterValue"
    assert put(Values=[1.0, 2.0], Counts=[1.0])["Code"] == "InvalidParameterCombination"
    assert put(Value=1.0, StorageResolution=5)["Code"] == "InvalidParameterValue"
    assert put(Value=1.0, Dimensions=dims(A="1") + dims(A="2"))["Code"] == "InvalidParameterValue"
    long_name = put(Value=1.0, Dimensions=[{"Name": "x" * 300, "Value": "v"}])
    assert long_name["Code"] == "ValidationError" and "failed to satisfy constraint" in long_name["Message"]
    reserved = error_of(cw.put_metric_data, Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert reserved["Code"] == "InvalidParameterValue"

    stats = dict(Namespace="Bad/Get", MetricName="m", StartTime=at(0), EndTime=at(60))
    assert error_of(cw.get_metric_statistics, **stats, Period=60)["Code"] == "InvalidParameterCombination"
    assert error_of(cw.get_metric_statistics, **stats, Period=7, Statistics=["Sum"])["Code"] == "InvalidParameterValue"
    backwards = dict(stats, StartTime=at(60), EndTime=at(0))
    assert error_of(cw.get_metric_statistics, **backwards, Period=60, Statistics=["Sum"])["Code"] == (
        "InvalidParameterValue"
    )
    many = error_of(cw.get_metric_statistics, **dict(stats, EndTime=at(60 * 48)), Period=1, Statistics=["Sum"])
    assert many["Code"] == "InvalidParameterCombination" and "1,440" in many["Message"]
    percentile = error_of(cw.get_metric_statistics, **stats, Period=60, ExtendedStatistics=["p99"])
    assert percentile["Code"] == "InvalidParameterValue" and "not supported" in percentile["Message"]

    def data(query: dict[str, Any]) -> dict[str, Any]:
        return error_of(cw.get_metric_data, MetricDataQueries=[query], StartTime=at(0), EndTime=at(60))

    expression = data({"Id": "e1", "Expression": "SUM(METRICS())"})
    assert expression["Code"] == "InvalidParameterValue" and "not supported by Watchkeeper yet" in expression["Message"]
    metric = {"Metric": {"Namespace": "Bad/Get", "MetricName": "m"}, "Period": 60}
    assert data({"Id": "Upper", "MetricStat": {**metric, "Stat": "Sum"}})["Code"] == "InvalidParameterValue"
    assert data({"Id": "q", "MetricStat": {**metric, "Stat": "p99"}})["Code"] == "InvalidParameterValue"
    assert data({"Id": "q"})["Code"] == "MissingParameter"
    twice = {"Id": "q", "MetricStat": {**metric, "Stat": "Sum"}}
    same_id = error_of(cw.get_metric_data, MetricDataQueries=[twice, twice], StartTime=at(0), EndTime=at(60))
    assert same_id["Code"] == "InvalidParameterValue" and "unique" in same_id["Message"]


def test_other_operations_are_not_supported_yet(cw: Any) -> None:
    error = error_of(cw.list_dashboards)
    assert error["Code"] == "UnknownOperationException" and "not supported by Watchkeeper yet" in error["Message"]


def test_accounts_see_only_their_own_metrics(server: ServerProcess, cw: Any) -> None:
    cw.put_metric_data(
        Namespace="Private/Alice", MetricData=[{"MetricName": "secret", "Timestamp": at(1), "Value": 7.0}]
    )
    bob = server.client("cloudwatch", keys=BOB[:2])
    assert bob.list_metrics(Namespace="Private/Alice")["Metrics"] == []
    assert bob.list_metrics(OwningAccount="111111111111")["Metrics"] == []
    query = dict(Namespace="Private/Alice", MetricName="secret", StartTime=at(0), EndTime=at(60), Period=3600)
    assert bob.get_metric_statistics(**query, Statistics=["Sum"])["Datapoints"] == []
    assert [p["Sum"] for p in cw.get_metric_statistics(**query, Statistics=["Sum"])["Datapoints"]] == [7]
    # Another region of the same account is another store, as on AWS.
    west = server.client("cloudwatch", region="us-west-2", keys=ALICE[:2])
    assert west.list_metrics(Namespace="Private/Alice")["Metrics"] == []


def test_signing_name_is_monitoring(server: ServerProcess) -> None:
    """CloudWatch requests are signed for `monitoring`; one signed for another service is refused."""
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
    }
    with httpx.Client(base_url=server.url, auth=SigV4(ALICE[:2], service="monitoring")) as client:
        assert client.post("/", content=b"{}", headers=headers).status_code == 200
    with httpx.Client(base_url=server.url, auth=SigV4(ALICE[:2], service="sagemaker")) as client:
        refused = client.post("/", content=b"{}", headers=headers)
    assert refused.status_code == 403 and refused.json()["__type"] == "InvalidSignatureException"

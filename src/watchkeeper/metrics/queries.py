"""CloudWatch's metric calls as rules over the store: PutMetricData, ListMetrics, GetMetricStatistics and
GetMetricData (MetricStat queries; math expressions are refused as not supported yet). Each takes the
request as validated against botocore's model and returns the response body."""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

import orjson
import regex

from watchkeeper.metrics.aggregate import STATISTICS, buckets
from watchkeeper.metrics.datums import check_dimensions, dimensions_list, put_points
from watchkeeper.metrics.errors import (
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValue,
    MissingParameter,
    invalid_value,
)
from watchkeeper.metrics.store import MetricsStore
from watchkeeper.services.context import RequestContext

LIST_PAGE = 500  # ListMetrics answers up to 500 metrics a page
MAX_STATISTICS_DATAPOINTS = 1440  # GetMetricStatistics
MAX_QUERIES = 500  # GetMetricData
DEFAULT_MAX_DATAPOINTS = 100_800
RECENTLY_ACTIVE = {"PT3H": 3 * 3600}
_QUERY_ID = regex.compile(r"[a-z][a-zA-Z0-9_]*")


def _encode(token: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(token)).decode()


def _decode(token: str, error: Exception) -> dict[str, Any]:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise error from None
    if not isinstance(value, dict):
        raise error
    return value


def _check_period(period: int, parameter: str) -> None:
    if period not in (1, 5, 10, 30) and period % 60:
        raise invalid_value(period, parameter, "The period must be 1, 5, 10, 30 or a multiple of 60 seconds.")


def _check_range(start: float, end: float) -> None:
    if start >= end:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")


class MetricsService:
    def __init__(self, store: MetricsStore) -> None:
        self.store = store

    def put_metric_data(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        points = put_points(p, self.store.clock.now())
        with self.store.db.write() as conn:
            self.store.insert(conn, ctx, points)
        return {}

    def list_metrics(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        after = 0
        if "NextToken" in p:
            after = _decode(p["NextToken"], invalid_value(p["NextToken"], "NextToken")).get("after", -1)
            if not isinstance(after, int) or after < 0:
                raise invalid_value(p["NextToken"], "NextToken")
        if p.get("OwningAccount", ctx.account) != ctx.account:
            return {"Metrics": []}
        filters = [(f["Name"], f.get("Value")) for f in p.get("Dimensions") or []]
        active = p.get("RecentlyActive")
        since = self.store.clock.now() - RECENTLY_ACTIVE[active] if active else None
        metrics: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.store.series_page(ctx, p.get("Namespace"), p.get("MetricName"), after, LIST_PAGE, since)
            for row in page:
                after = row.id
                dimensions = dimensions_list(row.dimensions)
                pairs = {(d["Name"], d["Value"]) for d in dimensions}
                names = {d["Name"] for d in dimensions}
                if all((name, value) in pairs if value is not None else name in names for name, value in filters):
                    metrics.append(
                        {"Namespace": row.namespace, "MetricName": row.metric_name, "Dimensions": dimensions}
                    )
                    if len(metrics) == LIST_PAGE:
                        break
            if len(metrics) == LIST_PAGE:
                token = _encode({"after": after})
                break
            if len(page) < LIST_PAGE:
                break
        result: dict[str, Any] = {"Metrics": metrics}
        if p.get("IncludeLinkedAccounts"):
            result["OwningAccounts"] = [ctx.account] * len(metrics)
        if token:
            result["NextToken"] = token
        return result

    def get_metric_statistics(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("ExtendedStatistics"):
            raise InvalidParameterValue(
                "ExtendedStatistics (percentiles) are not supported by Watchkeeper yet; use Statistics."
            )
        statistics = p.get("Statistics") or []
        if not statistics:
            raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics.")
        start, end, period = p["StartTime"], p["EndTime"], p["Period"]
        _check_range(start, end)
        _check_period(period, "Period")
        requested = math.ceil((end - start) / period)
        if requested > MAX_STATISTICS_DATAPOINTS:
            raise InvalidParameterCombination(
                f"You have requested up to {requested:,} datapoints, which exceeds the limit of "
                f"{MAX_STATISTICS_DATAPOINTS:,}. You may reduce the datapoints requested by increasing Period, "
                "or decreasing the time range."
            )
        dimensions = check_dimensions(p.get("Dimensions"), "Dimensions")
        points = self.store.points(ctx, p["Namespace"], p["MetricName"], dimensions, start, end, p.get("Unit"))
        datapoints = []
        for bucket in buckets(points, start, period, by_unit=True):
            datapoint: dict[str, Any] = {"Timestamp": bucket.start}
            datapoint.update({name: bucket.value(name) for name in statistics})
            datapoint["Unit"] = bucket.unit
            datapoints.append(datapoint)
        return {"Label": p["MetricName"], "Datapoints": datapoints}

    def get_metric_data(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        queries = p["MetricDataQueries"]
        start, end = p["StartTime"], p["EndTime"]
        _check_range(start, end)
        if not queries or len(queries) > MAX_QUERIES:
            raise invalid_value(len(queries), "MetricDataQueries", f"Give 1 to {MAX_QUERIES} queries.")
        max_points = p.get("MaxDatapoints", DEFAULT_MAX_DATAPOINTS)
        if max_points < 1:
            raise invalid_value(max_points, "MaxDatapoints")
        request = {k: v for k, v in p.items() if k != "NextToken"}
        digest = hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
        offset = 0
        if "NextToken" in p:
            bad = InvalidNextToken("The NextToken is invalid or belongs to another request.")
            token = _decode(p["NextToken"], bad)
            offset = token.get("offset", -1)
            if token.get("request") != digest or not isinstance(offset, int) or offset < 0:
                raise bad
        descending = p.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        ids = [q["Id"] for q in queries]
        duplicate = next((i for i in ids if ids.count(i) > 1), None)
        if duplicate is not None:
            raise invalid_value(duplicate, "MetricDataQueries", "Each query's Id must be unique.")
        series = [self._query(ctx, q, f"MetricDataQueries.member.{i}", start, end) for i, q in enumerate(queries, 1)]
        results, position = [], 0
        for query, found in zip(queries, series, strict=True):
            if descending:
                found.reverse()
            first = min(max(offset - position, 0), len(found))
            last = min(max(offset + max_points - position, 0), len(found))
            position += len(found)
            if query.get("ReturnData", True):
                page = found[first:last]
                results.append(
                    {
                        "Id": query["Id"],
                        "Label": query.get("Label") or query["MetricStat"]["Metric"]["MetricName"],
                        "Timestamps": [t for t, _ in page],
                        "Values": [v for _, v in page],
                        "StatusCode": "PartialData" if last < len(found) else "Complete",
                        "Messages": [],
                    }
                )
        body: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if offset + max_points < position:
            body["NextToken"] = _encode({"offset": offset + max_points, "request": digest})
        return body

    def _query(
        self, ctx: RequestContext, query: dict[str, Any], parameter: str, start: float, end: float
    ) -> list[tuple[float, float]]:
        """(timestamp, value) of one MetricStat query, oldest first."""
        if not _QUERY_ID.fullmatch(query["Id"]):
            raise invalid_value(
                query["Id"], f"{parameter}.Id", "It must start with a lowercase letter, then letters, digits or _."
            )
        if "Expression" in query:
            if "MetricStat" in query:
                raise InvalidParameterCombination(
                    f"The parameters {parameter}.MetricStat and {parameter}.Expression are mutually exclusive."
                )
            raise InvalidParameterValue(
                f"Metric math expressions are not supported by Watchkeeper yet ({parameter}.Expression); "
                "use MetricStat queries."
            )
        stat = query.get("MetricStat")
        if stat is None:
            raise MissingParameter(f"Each query needs {parameter}.MetricStat or {parameter}.Expression.")
        metric = stat["Metric"]
        for member in ("Namespace", "MetricName"):
            if member not in metric:
                raise MissingParameter(f"The parameter {parameter}.MetricStat.Metric.{member} is required.")
        if stat["Stat"] not in STATISTICS:
            raise invalid_value(
                stat["Stat"], f"{parameter}.MetricStat.Stat", f"Watchkeeper supports {', '.join(STATISTICS)}."
            )
        _check_period(stat["Period"], f"{parameter}.MetricStat.Period")
        dimensions = check_dimensions(metric.get("Dimensions"), f"{parameter}.MetricStat.Metric.Dimensions")
        points = self.store.points(
            ctx, metric["Namespace"], metric["MetricName"], dimensions, start, end, stat.get("Unit")
        )
        return [
            (b.start, b.value(stat["Stat"])) for b in buckets(points, start, stat["Period"], by_unit=False)
        ]

"""What each dashboard page shows, gathered through the services, the store and the object store (no rules
here or in the templates: statuses, violations and metrics are the services' and the analyzer's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.web import charts, queries
from watchkeeper.web.distributions import pair_features
from watchkeeper.web.render import when
from watchkeeper.web.reports import Report, job_locations, load_report

log = logging.getLogger(__name__)

PAGE_SIZE = 100
SCHEDULE_DIMENSION = "MonitoringSchedule"


def job_name_of(arn: str | None) -> str | None:
    return arn.rsplit("/", 1)[-1] if arn else None


@dataclass(frozen=True)
class Alerts:
    """Model Monitor alerts of a schedule, or why there are none to show."""

    available: bool
    alerts: list[dict[str, Any]]
    history: list[dict[str, Any]]


def monitoring_alerts(services: Services, ctx: RequestContext, schedule: str) -> Alerts:
    """The seam for Model Monitor alerts: read through the ListMonitoringAlerts / ListMonitoringAlertHistory
    handlers, so the page shows whatever the alert service answers once it is built (empty lists until then)."""
    from watchkeeper.api.sagemaker import OPERATIONS

    try:
        alerts = OPERATIONS["ListMonitoringAlerts"](services, ctx, {"MonitoringScheduleName": schedule})
        history = OPERATIONS["ListMonitoringAlertHistory"](
            services, ctx, {"MonitoringScheduleName": schedule, "MaxResults": 20}
        )
    except Exception:  # the alert service is not this page's concern: the rest of the page still shows
        log.exception("monitoring alerts of %s could not be read", schedule)
        return Alerts(False, [], [])
    return Alerts(True, alerts.get("MonitoringAlertSummaries") or [], history.get("MonitoringAlertHistory") or [])


def _alarms(services: Services, ctx: RequestContext, schedule: str | None = None) -> list[dict[str, Any]]:
    alarms = services.alarms.describe_alarms(ctx, {"MaxRecords": 100})["MetricAlarms"]
    if schedule is None:
        return alarms
    return [a for a in alarms
            if any(d.get("Name") == SCHEDULE_DIMENSION and d.get("Value") == schedule for d in a.get("Dimensions", []))]


def schedules_page(services: Services, ctx: RequestContext, token: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"MaxResults": PAGE_SIZE, "SortBy": "Name", "SortOrder": "Ascending"}
    if token:
        params["NextToken"] = token
    listed = services.schedules.list(ctx, params)
    summaries = listed["MonitoringScheduleSummaries"]
    latest = queries.latest_executions(
        services.db, ctx, [(s["MonitoringScheduleName"], s["CreationTime"]) for s in summaries]
    )
    rows = []
    for summary in summaries:
        last = latest.get(summary["MonitoringScheduleName"])
        rows.append({
            "name": summary["MonitoringScheduleName"],
            "status": summary["MonitoringScheduleStatus"],
            "type": summary.get("MonitoringType", ""),
            "endpoint": summary.get("EndpointName", ""),
            "last_status": last.status if last else "",
            "last_time": when(last.scheduled_time) if last else "",
            "last_job": job_name_of(last.processing_job_arn) if last else None,
            "last_reason": (last.failure_reason or "") if last else "",
        })
    return {"schedules": rows, "next_token": listed.get("NextToken"), "alarms": _alarms(services, ctx)}


def schedule_page(services: Services, ctx: RequestContext, name: str, token: str | None) -> dict[str, Any]:
    described = services.schedules.describe(ctx, name)
    params: dict[str, Any] = {"MonitoringScheduleName": name, "SortBy": "ScheduledTime", "SortOrder": "Descending",
                              "MaxResults": PAGE_SIZE}
    if token:
        params["NextToken"] = token
    listed = services.executions.list(ctx, params)
    executions = [{
        "scheduled": when(e["ScheduledTime"]),
        "status": e["MonitoringExecutionStatus"],
        "job": job_name_of(e.get("ProcessingJobArn")),
        "reason": e.get("FailureReason", ""),
    } for e in listed["MonitoringExecutionSummaries"]]
    timeline = charts.timeline(
        f"Executions of {name}",
        [(e["ScheduledTime"], e["MonitoringExecutionStatus"], when(e["ScheduledTime"]))
         for e in listed["MonitoringExecutionSummaries"]],
    )
    series = queries.schedule_series(
        services.db, ctx, described["MonitoringScheduleName"], described.get("EndpointName"),
        services.metrics_store.oldest,
    )
    metric_charts = [
        {"name": metric, "namespace": namespace, "svg": Markup(charts.line_chart(metric, [(metric, points)]))}
        for namespace, metric, points in series
    ]
    return {
        "schedule": described,
        "executions": executions,
        "next_token": listed.get("NextToken"),
        "timeline": Markup(timeline),
        "metric_charts": metric_charts,
        "alarms": _alarms(services, ctx, described["MonitoringScheduleName"]),
        "alerts": monitoring_alerts(services, ctx, described["MonitoringScheduleName"]),
    }


def report_view(report: Report) -> dict[str, Any]:
    """The charts and tables of one execution's report (the dashboard's execution page and `watchkeeper report`)."""
    features = []
    for feature in pair_features(report.baseline, report.statistics):
        if feature.kind == "numerical":
            svg = charts.cdf_chart(f"{feature.name}: cumulative distribution", feature.baseline_cdf,
                                   feature.current_cdf)
        elif feature.kind == "categorical":
            svg = charts.bars_chart(f"{feature.name}: share of values", feature.categories)
        else:
            svg = ""
        features.append({"feature": feature, "svg": Markup(svg),
                         "violations": [v for v in report.violations if v.get("feature_name") == feature.name]})
    quality = report.model_quality
    metrics = []
    if quality:
        for key, value in quality["metrics"].items():
            if isinstance(value, dict) and "value" in value and not isinstance(value["value"], dict | list):
                metrics.append({"name": key, "value": value["value"],
                                "std": value.get("standard_deviation", "")})
    return {
        "report": report,
        "features": features,
        "violations": report.violations,
        "quality_kind": quality["kind"] if quality else None,
        "quality_metrics": metrics,
        "confusion": (quality or {}).get("metrics", {}).get("confusion_matrix") if quality else None,
        "item_count": ((report.statistics or {}).get("dataset") or {}).get("item_count"),
    }


def execution_page(services: Services, ctx: RequestContext, job_name: str) -> dict[str, Any]:
    job = services.processing_jobs.describe(ctx, job_name)
    execution = queries.execution_of_job(services.db, ctx, job["ProcessingJobArn"])
    report_uri, baseline_uri = job_locations(job)
    if job["ProcessingJobStatus"] == "Completed":
        status = execution.status if execution is not None else ""
        report = load_report(services.store, report_uri, baseline_uri,
                             expect_violations=status == "CompletedWithViolations")
    else:
        report = Report(report_uri, baseline_uri)
    return {"job": job, "execution": execution, **report_view(report)}

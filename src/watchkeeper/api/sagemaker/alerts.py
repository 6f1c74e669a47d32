"""Monitoring alerts. SageMaker creates them for its Model Dashboard; Watchkeeper has none yet, so the lists
are empty for an existing schedule and updates name the missing alert (docs/api-coverage.md)."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.errors import ResourceNotFound
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def list_alerts(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.schedules.find_row(ctx, p["MonitoringScheduleName"])
    return {"MonitoringAlertSummaries": []}


def list_history(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("MonitoringScheduleName"):
        s.schedules.find_row(ctx, p["MonitoringScheduleName"])
    return {"MonitoringAlertHistory": []}


def update_alert(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.schedules.find_row(ctx, p["MonitoringScheduleName"])
    raise ResourceNotFound(
        f"Monitoring alert {p['MonitoringAlertName']} does not exist for schedule {p['MonitoringScheduleName']}"
    )


OPERATIONS: dict[str, Handler] = {
    "ListMonitoringAlerts": list_alerts,
    "ListMonitoringAlertHistory": list_history,
    "UpdateMonitoringAlert": update_alert,
}

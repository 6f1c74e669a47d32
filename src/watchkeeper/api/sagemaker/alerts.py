"""Model Monitor alerts: the rules are services/monitoring_alerts.py's (docs/alerts.md)."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def list_alerts(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.monitoring_alerts.list_alerts(ctx, p)


def list_history(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.monitoring_alerts.list_history(ctx, p)


def update_alert(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.monitoring_alerts.update_alert(ctx, p)


OPERATIONS: dict[str, Handler] = {
    "ListMonitoringAlerts": list_alerts,
    "ListMonitoringAlertHistory": list_history,
    "UpdateMonitoringAlert": update_alert,
}

"""Monitoring-schedule operations."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def create(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    arn = s.schedules.create(ctx, p["MonitoringScheduleName"], p["MonitoringScheduleConfig"], p.get("Tags", []))
    return {"MonitoringScheduleArn": arn}


def describe(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.schedules.describe(ctx, p["MonitoringScheduleName"])


def update(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "MonitoringScheduleArn": s.schedules.update(ctx, p["MonitoringScheduleName"], p["MonitoringScheduleConfig"])
    }


def delete(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.schedules.delete(ctx, p["MonitoringScheduleName"])
    return {}


def start(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.schedules.start(ctx, p["MonitoringScheduleName"])
    return {}


def stop(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.schedules.stop(ctx, p["MonitoringScheduleName"])
    return {}


def list_(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.schedules.list(ctx, p)


OPERATIONS: dict[str, Handler] = {
    "CreateMonitoringSchedule": create,
    "DescribeMonitoringSchedule": describe,
    "UpdateMonitoringSchedule": update,
    "DeleteMonitoringSchedule": delete,
    "StartMonitoringSchedule": start,
    "StopMonitoringSchedule": stop,
    "ListMonitoringSchedules": list_,
}

"""Monitoring executions as the API reports them (ListMonitoringExecutions, last-execution summaries)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select

from watchkeeper.services.context import RequestContext
from watchkeeper.services.listing import paginate, time_filters
from watchkeeper.store import Database
from watchkeeper.store.tables import monitoring_executions


def summary_of(row: Row[Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "MonitoringScheduleName": row.schedule_name,
        "ScheduledTime": row.scheduled_time,
        "CreationTime": row.creation_time,
        "LastModifiedTime": row.last_modified_time,
        "MonitoringExecutionStatus": row.status,
    }
    optional = {
        "ProcessingJobArn": row.processing_job_arn,
        "EndpointName": row.endpoint_name,
        "FailureReason": row.failure_reason,
        "MonitoringJobDefinitionName": row.job_definition_name,
        "MonitoringType": row.monitoring_type,
    }
    summary.update({k: v for k, v in optional.items() if v})
    return summary


class ExecutionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        t = monitoring_executions
        conditions = [t.c.account == ctx.account, t.c.region == ctx.region]
        if params.get("MonitoringScheduleName"):
            conditions.append(t.c.schedule_key == params["MonitoringScheduleName"].lower())
        if params.get("EndpointName"):
            conditions.append(func.lower(t.c.endpoint_name) == params["EndpointName"].lower())
        if params.get("StatusEquals"):
            conditions.append(t.c.status == params["StatusEquals"])
        if params.get("MonitoringJobDefinitionName"):
            conditions.append(func.lower(t.c.job_definition_name) == params["MonitoringJobDefinitionName"].lower())
        if params.get("MonitoringTypeEquals"):
            conditions.append(t.c.monitoring_type == params["MonitoringTypeEquals"])
        conditions += time_filters(
            params,
            {
                "ScheduledTime": t.c.scheduled_time,
                "CreationTime": t.c.creation_time,
                "LastModifiedTime": t.c.last_modified_time,
            },
        )
        with self.db.read() as conn:
            page = paginate(
                conn,
                select(t).where(*conditions),
                params,
                {
                    "CreationTime": t.c.creation_time,
                    "ScheduledTime": t.c.scheduled_time,
                    "Status": t.c.status,
                },
                t.c.id,
            )
        result: dict[str, Any] = {"MonitoringExecutionSummaries": [summary_of(r) for r in page.rows]}
        if page.next_token:
            result["NextToken"] = page.next_token
        return result

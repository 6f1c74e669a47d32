"""Checks on a MonitoringScheduleConfig beyond its shape: what AWS rejects with ValidationException."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from watchkeeper.errors import ValidationError
from watchkeeper.scheduling.expressions import ScheduleSpec, parse_offset, parse_schedule_expression
from watchkeeper.services.context import RequestContext
from watchkeeper.services.locations import check_locations
from watchkeeper.services.monitoring_types import DATA_QUALITY, MonitoringType, monitoring_type

MAX_ONE_TIME_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ResolvedConfig:
    spec: ScheduleSpec
    kind: MonitoringType
    inline: dict[str, Any] | None  # the inline MonitoringJobDefinition, if any
    definition_name: str | None


def resolve_config(
    config: dict[str, Any], conn: Connection | None = None, ctx: RequestContext | None = None
) -> ResolvedConfig:
    """Check a schedule's config; with the write transaction and the caller, claim or check its buckets."""
    schedule_config = config.get("ScheduleConfig")
    spec = parse_schedule_expression(schedule_config["ScheduleExpression"] if schedule_config else None)
    if schedule_config:
        _check_analysis_window(schedule_config, spec)

    inline = config.get("MonitoringJobDefinition")
    name = config.get("MonitoringJobDefinitionName")
    if (inline is None) == (name is None):
        raise ValidationError(
            "MonitoringScheduleConfig must contain exactly one of MonitoringJobDefinition or "
            "MonitoringJobDefinitionName"
        )
    if name is not None and "MonitoringType" not in config:
        raise ValidationError("MonitoringType is required when MonitoringJobDefinitionName is given")
    kind = monitoring_type(config["MonitoringType"]) if "MonitoringType" in config else DATA_QUALITY
    if inline is not None:
        monitoring_input = inline["MonitoringInputs"][0]
        given = [k for k in ("EndpointInput", "BatchTransformInput") if k in monitoring_input]
        if len(given) != 1:
            raise ValidationError(
                "MonitoringInputs[0] must contain exactly one of EndpointInput or BatchTransformInput; "
                f"found {len(given)}"
            )
        # Create and Update share the member names; buckets are claimed in the caller's transaction.
        check_locations("CreateMonitoringSchedule", {"MonitoringScheduleConfig": config}, conn, ctx)
    return ResolvedConfig(spec=spec, kind=kind, inline=inline, definition_name=name)


def _check_analysis_window(schedule_config: dict[str, Any], spec: ScheduleSpec) -> None:
    start = schedule_config.get("DataAnalysisStartTime")
    end = schedule_config.get("DataAnalysisEndTime")
    if spec.kind == "now" and (start is None or end is None):
        raise ValidationError(
            "ScheduleExpression 'NOW' requires both DataAnalysisStartTime and DataAnalysisEndTime "
            "(ISO-8601 durations relative to the run time, e.g. '-PT1H' and '-PT0H')"
        )
    if (start is None) != (end is None):
        raise ValidationError("DataAnalysisStartTime and DataAnalysisEndTime must be given together")
    if start is None or end is None:
        return
    start_s = parse_offset(start, "DataAnalysisStartTime")
    end_s = parse_offset(end, "DataAnalysisEndTime")
    if start_s >= end_s:
        raise ValidationError(f"DataAnalysisStartTime '{start}' must be earlier than DataAnalysisEndTime '{end}'")
    if end_s - start_s > MAX_ONE_TIME_WINDOW_SECONDS:
        raise ValidationError(
            f"The window from DataAnalysisStartTime '{start}' to DataAnalysisEndTime '{end}' is longer than 24 hours"
        )


def check_offsets(monitoring_input: dict[str, Any]) -> None:
    for key in ("EndpointInput", "BatchTransformInput"):
        source = monitoring_input.get(key) or {}
        for member in ("StartTimeOffset", "EndTimeOffset"):
            if member in source:
                parse_offset(source[member], member)


def check_max_runtime(kind: MonitoringType, spec: ScheduleSpec, stopping: dict[str, Any] | None) -> None:
    """MaxRuntimeInSeconds may not exceed the period (half of it for two-job types), spec §2.3.

    A one-off NOW schedule is held to the hourly limit (documented choice: AWS states no limit for it).
    """
    if not stopping or "MaxRuntimeInSeconds" not in stopping:
        return
    period = spec.period_seconds or 3600
    limit = kind.max_runtime(period)
    value = stopping["MaxRuntimeInSeconds"]
    if value > limit:
        raise ValidationError(
            f"MaxRuntimeInSeconds {value} exceeds the limit of {limit} seconds for a {kind.name} "
            f"schedule that runs every {period // 3600} hour(s)"
        )

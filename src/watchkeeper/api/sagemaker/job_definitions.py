"""Create/Describe/List/Delete for the four monitoring job-definition types."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.services.monitoring_types import BY_NAME, MonitoringType


def _operations(kind: MonitoringType) -> dict[str, Handler]:
    def create(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return {"JobDefinitionArn": s.job_definitions.create(ctx, kind, p)}

    def describe(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return s.job_definitions.describe(ctx, kind, p["JobDefinitionName"])

    def delete(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        s.job_definitions.delete(ctx, kind, p["JobDefinitionName"])
        return {}

    def list_(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return s.job_definitions.list(ctx, kind, p)

    return {
        f"Create{kind.name}JobDefinition": create,
        f"Describe{kind.name}JobDefinition": describe,
        f"Delete{kind.name}JobDefinition": delete,
        f"List{kind.name}JobDefinitions": list_,
    }


OPERATIONS: dict[str, Handler] = {name: op for kind in BY_NAME.values() for name, op in _operations(kind).items()}

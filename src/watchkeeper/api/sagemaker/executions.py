"""ListMonitoringExecutions."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def list_(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.executions.list(ctx, p)


OPERATIONS: dict[str, Handler] = {"ListMonitoringExecutions": list_}

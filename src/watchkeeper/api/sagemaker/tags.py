"""AddTags / ListTags / DeleteTags."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def add(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": s.tags.add(ctx, p["ResourceArn"], p["Tags"])}


def list_(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.tags.list(ctx, p["ResourceArn"], p.get("MaxResults"), p.get("NextToken"))


def delete(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.tags.remove(ctx, p["ResourceArn"], p["TagKeys"])
    return {}


OPERATIONS: dict[str, Handler] = {"AddTags": add, "ListTags": list_, "DeleteTags": delete}

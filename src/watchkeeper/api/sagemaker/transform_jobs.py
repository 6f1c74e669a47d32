"""CreateTransformJob / DescribeTransformJob / ListTransformJobs / StopTransformJob."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def create(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"TransformJobArn": s.transform_jobs.create(ctx, p)}


def describe(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.transform_jobs.describe(ctx, p["TransformJobName"])


def list_(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.transform_jobs.list(ctx, p)


def stop(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.transform_jobs.stop(ctx, p["TransformJobName"])
    return {}


OPERATIONS: dict[str, Handler] = {
    "CreateTransformJob": create,
    "DescribeTransformJob": describe,
    "ListTransformJobs": list_,
    "StopTransformJob": stop,
}

"""CreateProcessingJob / DescribeProcessingJob / ListProcessingJobs / StopProcessingJob."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def create(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"ProcessingJobArn": s.processing_jobs.create(ctx, p)}


def describe(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.processing_jobs.describe(ctx, p["ProcessingJobName"])


def list_(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.processing_jobs.list(ctx, p)


def stop(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.processing_jobs.stop(ctx, p["ProcessingJobName"])
    return {}


OPERATIONS: dict[str, Handler] = {
    "CreateProcessingJob": create,
    "DescribeProcessingJob": describe,
    "ListProcessingJobs": list_,
    "StopProcessingJob": stop,
}

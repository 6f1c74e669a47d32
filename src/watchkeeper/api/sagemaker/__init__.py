"""SageMaker control-plane operations: each module maps operation names to thin handlers."""

from __future__ import annotations

from watchkeeper.api.sagemaker import (
    alerts,
    endpoints,
    executions,
    job_definitions,
    processing_jobs,
    schedules,
    tags,
    transform_jobs,
)
from watchkeeper.api.sagemaker.types import Handler

OPERATIONS: dict[str, Handler] = {
    **schedules.OPERATIONS,
    **job_definitions.OPERATIONS,
    **executions.OPERATIONS,
    **tags.OPERATIONS,
    **endpoints.OPERATIONS,
    **processing_jobs.OPERATIONS,
    **alerts.OPERATIONS,
    **transform_jobs.OPERATIONS,
}

"""The four monitoring types as data: their names and the execution plan of each, declared here and nowhere else.

A plan is the jobs of one execution, in order, each with the function that builds its CreateProcessingJob
request (scheduling/execution_jobs.py). services/plans.py runs plans; nothing else asks which type it has.
A job that Watchkeeper cannot run yet says so (`missing`), and an execution of that type fails with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watchkeeper.errors import ValidationError
from watchkeeper.scheduling.clarify_jobs import model_bias_request, model_explainability_request
from watchkeeper.scheduling.execution_jobs import (
    ExecutionInputs,
    data_quality_request,
    ground_truth_merge_request,
    model_quality_request,
)

RequestBuilder = Callable[[ExecutionInputs], dict[str, Any]]


@dataclass(frozen=True)
class PlannedJob:
    role: str  # what the job does, for logs: "analysis", "ground-truth merge"
    build: RequestBuilder | None  # None: not implemented in this version
    missing: str | None = None  # why not, when build is None


@dataclass(frozen=True)
class MonitoringType:
    name: str  # wire value, also the prefix of the job-definition members (DataQualityJobInput, ...)
    arn_type: str
    plan: tuple[PlannedJob, ...]

    @property
    def jobs_per_execution(self) -> int:
        return len(self.plan)

    @property
    def runnable(self) -> bool:
        return all(job.build is not None for job in self.plan)

    def max_runtime(self, period_seconds: int) -> int:
        # "For data quality and model explainability, this can be up to 3600 seconds for an hourly schedule.
        # For model bias and model quality hourly schedules, this can be up to 1800 seconds" (spec §2.3): the
        # two-job types split the period between a merge job and the analysis job.
        return min(86400, period_seconds) // self.jobs_per_execution


DATA_QUALITY = MonitoringType(
    "DataQuality", "data-quality-job-definition", (PlannedJob("analysis", data_quality_request),)
)
MODEL_QUALITY = MonitoringType(
    "ModelQuality",
    "model-quality-job-definition",
    (PlannedJob("ground-truth merge", ground_truth_merge_request), PlannedJob("analysis", model_quality_request)),
)
MODEL_BIAS = MonitoringType(
    "ModelBias",
    "model-bias-job-definition",
    (PlannedJob("ground-truth merge", ground_truth_merge_request), PlannedJob("bias analysis", model_bias_request)),
)
MODEL_EXPLAINABILITY = MonitoringType(
    "ModelExplainability",
    "model-explainability-job-definition",
    (PlannedJob("explainability analysis", model_explainability_request),),
)

BY_NAME = {t.name: t for t in (DATA_QUALITY, MODEL_QUALITY, MODEL_BIAS, MODEL_EXPLAINABILITY)}


def monitoring_type(name: str) -> MonitoringType:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValidationError(f"Invalid MonitoringType '{name}': must be one of {', '.join(BY_NAME)}") from None


def not_runnable_reason(kind: MonitoringType) -> str | None:
    """Why an execution of this type cannot run in this version (a job of its plan is not implemented)."""
    if kind.runnable:
        return None
    runnable = [t.name for t in BY_NAME.values() if t.runnable]
    return (
        f"{kind.name} executions are not supported by this Watchkeeper version yet; "
        f"{' and '.join(runnable)} schedules run."
    )

"""The four monitoring types and what differs between them."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.errors import ValidationError


@dataclass(frozen=True)
class MonitoringType:
    name: str  # wire value, also the prefix of the job-definition members (DataQualityJobInput, ...)
    arn_type: str
    # "For data quality and model explainability, this can be up to 3600 seconds for an hourly schedule.
    # For model bias and model quality hourly schedules, this can be up to 1800 seconds" (spec §2.3): the
    # two-job types split the period between a merge job and the analysis job.
    jobs_per_execution: int

    def max_runtime(self, period_seconds: int) -> int:
        return min(86400, period_seconds) // self.jobs_per_execution


DATA_QUALITY = MonitoringType("DataQuality", "data-quality-job-definition", 1)
MODEL_QUALITY = MonitoringType("ModelQuality", "model-quality-job-definition", 2)
MODEL_BIAS = MonitoringType("ModelBias", "model-bias-job-definition", 2)
MODEL_EXPLAINABILITY = MonitoringType("ModelExplainability", "model-explainability-job-definition", 1)

BY_NAME = {t.name: t for t in (DATA_QUALITY, MODEL_QUALITY, MODEL_BIAS, MODEL_EXPLAINABILITY)}


def monitoring_type(name: str) -> MonitoringType:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValidationError(f"Invalid MonitoringType '{name}': must be one of {', '.join(BY_NAME)}") from None

"""An analysis's typed result: built once from the states, then read by everything that is written.

States → result → files. `data_quality_result(state, ...)` renders the window's statistics, suggests its
constraints, measures each feature's drift once (`drift.measure_drift`) and checks the baseline constraints
with those measures; `model_quality_result(state, ...)` does the same for model-quality metrics. The
result then gives, without computing anything again:

- `status`: `Completed` or `CompletedWithViolations` (from the number of violations; a baseline has none);
- `completion_message`: the first sentence of the job's one-line message (its first word is the status);
- `violations_document()`: `constraint_violations.json`;
- `metric_lines(...)`: the CloudWatch lines (data quality: `feature_baseline_drift_<name>` from the measured
  drift, never read back out of a violation's text);
- `result_document()`: the machine-readable summary the job writes beside its message
  (`/opt/ml/output/result.json`, see docs/analysis.md).

Pure: no files. Rules for each check are in `checks.py`, `drift.py` and `model_quality.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from watchkeeper.analysis import report
from watchkeeper.analysis.check_config import disabled
from watchkeeper.analysis.statistics import DatasetState
from watchkeeper.analysis.suggest import suggest_constraints

# Imported where used: the checks and drift measures when constraints are checked (a baseline job checks
# nothing), model-quality rules with the first model-quality result.
if TYPE_CHECKING:
    from watchkeeper.analysis.drift import Drift
    from watchkeeper.analysis.model_quality_metrics import ModelQualityState

RESULT_VERSION = 1  # of `result_document()`; bumped when a key changes meaning or goes away
DATA_QUALITY = "DATA_QUALITY"
MODEL_QUALITY = "MODEL_QUALITY"

Violation = Mapping[str, str]


def _mq() -> ModuleType:
    """`analysis.model_quality` (its metrics and their constraints), imported when first needed."""
    from watchkeeper.analysis import model_quality

    return model_quality


@dataclass(frozen=True)
class AnalysisResult:
    """What every analysis result has: the window's statistics, the constraints suggested from it, the
    violations of the baseline constraints (None when nothing was checked: a baseline job, or no baseline
    constraints) and the number of rows analysed."""

    statistics: Mapping[str, Any]
    constraints: Mapping[str, Any]
    violations: tuple[Violation, ...] | None
    item_count: int

    analysis_type = ""  # overridden by each kind of result

    @property
    def checked(self) -> bool:
        """Whether baseline constraints were checked (a monitoring job), so a violations file is written."""
        return self.violations is not None

    @property
    def violation_count(self) -> int:
        return len(self.violations or ())

    @property
    def status(self) -> str:
        """`Completed` or `CompletedWithViolations`: the execution's status when the job completes."""
        return report.status_of(self.violation_count)

    @property
    def completion_message(self) -> str:
        """`CompletedWithViolations: Job completed successfully with 3 violations.` (spec §2.5)."""
        return report.completion_message(self.violation_count)

    def violations_by_check(self) -> dict[str, int]:
        """Violations per `constraint_check_type`, in the order they first occur."""
        return dict(Counter(v["constraint_check_type"] for v in self.violations or ()))

    def result_document(self) -> dict[str, Any]:
        """The analysis's part of the job's `result.json` (the job adds what reading left out)."""
        return {
            "version": RESULT_VERSION,
            "analysis_type": self.analysis_type,
            "status": self.status,
            "violations": self.violation_count,
            "violations_by_check": self.violations_by_check(),
            "item_count": self.item_count,
        }


@dataclass(frozen=True)
class DataQualityResult(AnalysisResult):
    """A data-quality window (or baseline): `drift` holds each comparable feature's measured drift, once."""

    drift: Mapping[str, Drift] = field(default_factory=dict)
    emit_metrics: bool = True  # `monitoring_config.emit_metrics` of the constraints that apply

    analysis_type = DATA_QUALITY

    @property
    def distances(self) -> dict[str, float]:
        """`{feature: distance}` of every measured feature (what the drift metric lines report)."""
        from watchkeeper.analysis.drift import distances

        return distances(self.drift)

    def violations_document(self) -> dict[str, Any]:
        return report.violations_document(self.violations or ())

    def metric_lines(self, *, endpoint: str | None = None, schedule: str | None = None,
                     metric_time: str | None = None) -> list[str]:
        """The window's CloudWatch metric lines (spec §8); none when `emit_metrics` is Disabled."""
        if not self.emit_metrics:
            return []
        return report.metric_lines(self.statistics, self.distances, endpoint=endpoint, schedule=schedule,
                                   metric_time=metric_time)


@dataclass(frozen=True)
class ModelQualityResult(AnalysisResult):
    """A model-quality window (or baseline): metrics in `statistics`, violations of their constraints."""

    analysis_type = MODEL_QUALITY

    @property
    def problem_type(self) -> str:
        return _mq().problem_type_of(self.statistics)

    def violations_document(self) -> dict[str, Any]:
        return _mq().violations_document(self.violations or ())

    def metric_lines(self, *, endpoint: str | None = None, schedule: str | None = None,
                     metric_time: str | None = None) -> list[str]:
        return _mq().metric_lines(self.statistics, endpoint=endpoint, schedule=schedule, metric_time=metric_time)

    def result_document(self) -> dict[str, Any]:
        return {**super().result_document(), "problem_type": self.problem_type}


def data_quality_result(
    state: DatasetState,
    *,
    baseline_statistics: Mapping[str, Any] | None = None,
    baseline_constraints: Mapping[str, Any] | None = None,
    monitoring_config: Mapping[str, Any] | None = None,
) -> DataQualityResult:
    """The result of a data-quality job from its state.

    Without `baseline_constraints` nothing is checked (a baseline job: constraints suggested with
    `monitoring_config`). With them, constraints are suggested with their `monitoring_config`, drift is
    measured against `baseline_statistics` (when given) and the constraints are checked. Raises what the
    checks raise (ValueError for an unknown drift method, KeyError/TypeError for documents of the wrong
    shape); the caller names the files."""
    statistics = state.to_document()
    if baseline_constraints is None:
        constraints = suggest_constraints(statistics, monitoring_config)
        return DataQualityResult(statistics, constraints, None, state.item_count,
                                 emit_metrics=_emits(constraints))
    from watchkeeper.analysis.checks import find_violations
    from watchkeeper.analysis.drift import measure_drift

    constraints = suggest_constraints(statistics, baseline_constraints.get("monitoring_config"))
    drift = measure_drift(baseline_statistics, statistics, baseline_constraints)
    violations = find_violations(baseline_statistics, statistics, baseline_constraints,
                                 type_counts=state.type_counts(), drift=drift)
    return DataQualityResult(statistics, constraints, tuple(violations), state.item_count, drift=drift,
                             emit_metrics=_emits(baseline_constraints))


def model_quality_result(state: ModelQualityState,
                         baseline_constraints: Mapping[str, Any] | None = None) -> ModelQualityResult:
    """The result of a model-quality job from its state: metrics, suggested constraints and, against
    `baseline_constraints`, their violations (ValueError when they are for another problem type)."""
    statistics = state.to_document()
    mq = _mq()
    constraints = mq.suggest_constraints(statistics)
    violations = None if baseline_constraints is None else tuple(mq.find_violations(statistics, baseline_constraints))
    return ModelQualityResult(statistics, constraints, violations, state.count)


def _emits(constraints: Mapping[str, Any]) -> bool:
    return not disabled((constraints.get("monitoring_config") or {}).get("emit_metrics", "Enabled"))


__all__ = [
    "DATA_QUALITY", "MODEL_QUALITY", "RESULT_VERSION", "AnalysisResult", "DataQualityResult", "ModelQualityResult",
    "data_quality_result", "model_quality_result",
]

"""Drift of each feature against the baseline, measured once (spec §7.3, §8).

`measure_drift(baseline_statistics, current_statistics, constraints)` gives every comparable feature's
`Drift` (its distance and which kind of distance it is); `checks.find_violations` turns those measures into
baseline_drift_check verdicts (`drift_violation`) and the `feature_baseline_drift_<name>` metric lines read
the same values (`analysis.result`), so no distance is computed twice and none is read back out of a
violation's text. Distances themselves are in `distance.py`; rules and evidence in `docs/analysis-checks.md`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchkeeper.analysis import distance
from watchkeeper.analysis.aws_json import java_double
from watchkeeper.analysis.check_config import disabled, feature_config, global_config
from watchkeeper.analysis.types import NUMERIC_TYPES

BASELINE_DRIFT_CHECK = "baseline_drift_check"
NUMERIC = "numeric"  # L-infinity between KLL sketches, Simple or Robust
LINF = "linf"  # categorical L-infinity, Simple or Robust
CHI_SQUARED = "chisquared"  # categorical ChiSquared: the value is a p-value (drift when small)


@dataclass(frozen=True, slots=True)
class Drift:
    """One feature's measured drift: `value` is a distance (or, for `CHI_SQUARED`, a p-value; NaN when no
    test was possible)."""

    value: float
    kind: str


def measure_drift(
    baseline_statistics: Mapping[str, Any] | None,
    current_statistics: Mapping[str, Any],
    constraints: Mapping[str, Any],
) -> dict[str, Drift]:
    """The drift of every constraints feature both documents describe with comparable distributions and
    whose `perform_comparison` is not Disabled, in the constraints' order; each distance computed once.
    `evaluate_constraints` does not matter here: it decides verdicts, not measures."""
    if not baseline_statistics:
        return {}
    shared = global_config(constraints)
    current = by_name(current_statistics)
    baseline = by_name(baseline_statistics)
    measured: dict[str, Drift] = {}
    for constraint in constraints.get("features") or []:
        name = constraint["name"]
        config = feature_config(shared, constraint)
        if name in current and name in baseline and not disabled(config["perform_comparison"]):
            found = _measure(constraint, baseline[name], current[name], config)
            if found is not None:
                measured[name] = found
    return measured


def drift_distances(
    baseline_statistics: Mapping[str, Any],
    current_statistics: Mapping[str, Any],
    constraints: Mapping[str, Any],
) -> dict[str, float]:
    """The drift distance of every feature both documents describe, violated or not (what
    `feature_baseline_drift_<feature>` metrics report, spec §8); features without a number (no comparable
    distributions, no ChiSquared test possible) are left out. ChiSquared features report their p-value."""
    return distances(measure_drift(baseline_statistics, current_statistics, constraints))


def distances(measured: Mapping[str, Drift]) -> dict[str, float]:
    """`{feature: value}` of the measures that are numbers (NaN left out)."""
    return {name: drift.value for name, drift in measured.items() if not math.isnan(drift.value)}


def drift_violation(name: str, measured: Drift, config: Mapping[str, Any]) -> dict[str, str] | None:
    """The baseline_drift_check entry for a measured drift, or None when within the feature's threshold."""
    value = measured.value
    if measured.kind == NUMERIC:
        threshold = config["comparison_threshold"]
        if not value > float(threshold):
            return None
        # Real AWS text (spec §7.2); AWS's report parser reads the number with "distance: (.+) exceeds".
        text = f"Numerical distance: {java_double(value)} exceeds numerical threshold: {number_text(threshold)}"
    elif measured.kind == LINF:
        threshold = config["categorical_comparison_threshold"]
        if not value > float(threshold):
            return None
        text = (
            f"Categorical distance: {java_double(value)} exceeds categorical threshold: {number_text(threshold)}"
        )
    else:
        threshold = config["categorical_comparison_threshold"]
        if math.isnan(value) or not value < float(threshold):
            return None
        text = (
            f"Categorical distance (ChiSquared p-value): {java_double(value)} is below categorical "
            f"threshold: {number_text(threshold)}"
        )
    return {"feature_name": name, "constraint_check_type": BASELINE_DRIFT_CHECK, "description": text}


def _measure(
    constraint: Mapping[str, Any],
    baseline: Mapping[str, Any],
    observed: Mapping[str, Any],
    config: Mapping[str, Any],
) -> Drift | None:
    """The feature's drift; None when it has no comparable distributions."""
    expected = constraint.get("inferred_type", baseline.get("inferred_type"))
    if expected in NUMERIC_TYPES:
        base_sketch, cur_sketch = sketch_of(baseline), sketch_of(observed)
        if base_sketch is None or cur_sketch is None:
            return None
        return Drift(distance.numerical_distance(base_sketch, cur_sketch, config["comparison_method"]), NUMERIC)
    if expected == "String":
        base_counts, cur_counts = categorical_counts(baseline), categorical_counts(observed)
        if not base_counts or not cur_counts:
            return None
        if config["categorical_drift_method"] == "ChiSquared":
            return Drift(distance.chi_squared_p_value(base_counts, cur_counts), CHI_SQUARED)
        return Drift(distance.categorical_distance(base_counts, cur_counts, config["comparison_method"]), LINF)
    return None


# ------------------------------------------------------------------------------------------ documents


def by_name(statistics: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """A statistics document's features by name."""
    return {feature["name"]: feature for feature in (statistics or {}).get("features") or []}


def sketch_of(feature: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A feature's KLL `sketch`, or None when it has none with data."""
    kll = ((feature.get("numerical_statistics") or {}).get("distribution") or {}).get("kll") or {}
    sketch = kll.get("sketch")
    if not sketch or not sketch.get("data") or not any(sketch["data"]):
        return None  # AWS's own files can carry `"data": null` (spec §12.1, truncated log lines)
    return sketch


def categorical_counts(feature: Mapping[str, Any]) -> dict[str, float] | None:
    """A feature's categorical buckets as `{value: count}`, or None when it has none."""
    distribution = (feature.get("string_statistics") or {}).get("distribution") or {}
    buckets = (distribution.get("categorical") or {}).get("buckets")
    if not buckets:
        return None
    counts: dict[str, float] = {}
    for bucket in buckets:
        key = str(bucket["value"])
        counts[key] = counts.get(key, 0.0) + float(bucket["count"])
    return counts


def number_text(value: Any) -> str:
    """A threshold as written in constraints.json: an integer stays `0`, a double prints as Java does."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return java_double(float(value))

"""Evaluate a data-quality `constraints.json` against the statistics of a monitoring window (spec §7).

`find_violations(baseline_statistics, current_statistics, constraints)` returns the entries of
`constraint_violations.json` — `{"feature_name", "constraint_check_type", "description"}` dicts — for
every check SageMaker's built-in analyzer runs: data_type_check, completeness_check,
baseline_drift_check, missing_column_check, extra_column_check and categorical_values_check. Inputs are
plain statistics/constraints documents (Watchkeeper's or AWS's own); nothing here reads files.

Order of the entries: for each feature of the constraints, in their order, a missing_column_check when
the window lacks the column, otherwise its data_type_check, completeness_check,
categorical_values_check and baseline_drift_check (none when its data_type_check failed); then one
extra_column_check per column the constraints do not know, in the window's column order. How each
check decides, and which texts are AWS's own and which are ours, is in `docs/analysis-checks.md`.
Drift is measured in `drift.py` (once per window; the verdicts here and the metric lines read the same
measures).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from watchkeeper.analysis import distance
from watchkeeper.analysis.aws_json import java_double
from watchkeeper.analysis.check_config import disabled, feature_config, global_config
from watchkeeper.analysis.drift import (
    BASELINE_DRIFT_CHECK,
    Drift,
    by_name,
    categorical_counts,
    drift_distances,
    drift_violation,
    measure_drift,
    sketch_of,
)
from watchkeeper.analysis.types import BOOLEAN_PATTERN, FRACTIONAL_PATTERN, INTEGRAL_PATTERN, NUMERIC_TYPES

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"


# Deequ 2.0.x `DataType` classes (spec §5.3), used to classify the values of a categorical histogram.
_FRACTIONAL = re.compile(FRACTIONAL_PATTERN)
_INTEGRAL = re.compile(INTEGRAL_PATTERN)
_BOOLEAN = re.compile(BOOLEAN_PATTERN)


def find_violations(
    baseline_statistics: Mapping[str, Any] | None,
    current_statistics: Mapping[str, Any],
    constraints: Mapping[str, Any],
    *,
    type_counts: Mapping[str, Any] | None = None,
    drift: Mapping[str, Drift] | None = None,
) -> list[dict[str, str]]:
    """The violations of `constraints` by the window described by `current_statistics`.

    `baseline_statistics` supplies the baseline distributions for baseline_drift_check (KLL sketches,
    categorical buckets); without it no drift is checked. `type_counts` optionally gives, per feature,
    Deequ's data-type histogram of the window's raw values (`{"Integral": n, "Fractional": n,
    "String": n, "Boolean": n, "Unknown": n}`, or a `types.TypeCounts`); when absent the type ratio is
    read from the statistics document (see `type_match_ratio`). `drift` is the window's measured drift
    (`drift.measure_drift` of the same documents); when absent it is measured here.
    """
    shared = global_config(constraints)
    if disabled(shared["evaluate_constraints"]):
        return []
    current = by_name(current_statistics)
    if drift is None:
        drift = measure_drift(baseline_statistics, current_statistics, constraints)
    constrained = constraints.get("features") or []
    known = {feature["name"] for feature in constrained}
    violations: list[dict[str, str]] = []

    for constraint in constrained:
        name = constraint["name"]
        config = feature_config(shared, constraint)
        if disabled(config["evaluate_constraints"]):
            continue
        observed = current.get(name)
        if observed is None:
            violations.append(
                _violation(
                    name,
                    MISSING_COLUMN_CHECK,
                    f"There are missing columns in current dataset. Column {name} is missing. "
                    f"Number of columns in current dataset: {len(current)}, "
                    f"Number of columns in baseline constraints: {len(constrained)}.",
                )
            )
            continue
        counts = type_counts.get(name) if type_counts else None
        type_failed = False
        for check in (_data_type, _completeness, _categorical_values):
            found = check(name, constraint, observed, config, counts)
            if found:
                violations.append(found)
                type_failed = type_failed or found["constraint_check_type"] == DATA_TYPE_CHECK
        # No drift verdict for a column that failed its type check: the window no longer holds the kind
        # of values the baseline's distribution describes (docs/analysis-checks.md, "Drift for a column
        # whose type check failed"). Its drift is still measured, for the metrics.
        measured = drift.get(name)
        if measured is not None and not type_failed and not disabled(config["perform_comparison"]):
            found = drift_violation(name, measured, config)
            if found:
                violations.append(found)

    for name in current:
        if name not in known:
            violations.append(
                _violation(
                    name,
                    EXTRA_COLUMN_CHECK,
                    f"There are extra columns in current dataset. Column {name} is not in the baseline "
                    f"constraints. Number of columns in current dataset: {len(current)}, "
                    f"Number of columns in baseline constraints: {len(constrained)}.",
                )
            )
    return violations


# ------------------------------------------------------------------------------------------ statistics


def _stats(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    return feature.get("numerical_statistics") or feature.get("string_statistics") or {}


def _present_missing(feature: Mapping[str, Any]) -> tuple[int, int]:
    common = _stats(feature).get("common") or {}
    return int(common.get("num_present", 0)), int(common.get("num_missing", 0))


# ------------------------------------------------------------------------------------------ checks


def type_match_ratio(expected: str, feature: Mapping[str, Any], counts: Any = None) -> float:
    """Fraction of the window's non-null values of `feature` that are of type `expected`.

    Deequ `hasDataType` semantics (`ratioTypes(ignoreUnknown = true)`: nulls are left out of the
    denominator; 0.0 when no value matches), except that whole numbers also match `Fractional`.
    With `counts` (a Deequ data-type histogram of the raw values) the ratio is exact. Otherwise it is
    read from the statistics document:
    - Integral or Fractional window column: every value matches Fractional; for Integral, the share of
      whole-number items in the KLL sketch (item weights 2**level) — exact while the sketch still holds
      every value (2050 values with k=2048), a sketch estimate beyond;
    - String window column: its categorical buckets classified with Deequ's regexes (values not listed
      in the buckets count as non-matching);
    - all-null (Unknown) column: 0.0.
    """
    if counts is not None:
        total = _count(counts, None)
        matching = _count(counts, expected)
        if expected == "Fractional":
            matching += _count(counts, "Integral")
        return matching / total if matching > 0 and total > 0 else 0.0

    current_type = feature.get("inferred_type", "Unknown")
    if current_type in NUMERIC_TYPES:
        if expected == "Fractional" or current_type == expected:
            return 1.0
        if expected != "Integral":
            return 0.0
        sketch = sketch_of(feature)
        if sketch is None:
            return 0.0
        values, weights = distance.sketch_samples(sketch)
        whole = weights[values == values.round()].sum()
        return float(whole / weights.sum()) if whole > 0 else 0.0
    if current_type == "String":
        present, _ = _present_missing(feature)
        buckets = categorical_counts(feature) or {}
        matching = sum(c for value, c in buckets.items() if _matches(expected, value))
        return matching / present if matching > 0 and present > 0 else 0.0
    if current_type == expected:
        return 1.0
    return 0.0


def _count(counts: Any, kind: str | None) -> float:
    """Values of class `kind` (all non-null values for None) in a data-type histogram: a mapping of
    class name -> count, or the analyzer's `types.TypeCounts`."""
    if hasattr(counts, "count_of"):
        return float(counts.non_null if kind is None else counts.count_of(kind))
    if kind is None:
        return float(sum(v for k, v in counts.items() if k != "Unknown"))
    return float(counts.get(kind, 0))


def _matches(expected: str, value: str) -> bool:
    if expected == "Integral":
        return bool(_INTEGRAL.match(value))
    if expected == "Fractional":
        return bool(_FRACTIONAL.match(value) or _INTEGRAL.match(value))
    if expected == "Boolean":
        return bool(_BOOLEAN.match(value))
    return False


def _data_type(name, constraint, observed, config, counts) -> dict[str, str] | None:
    expected = constraint.get("inferred_type")
    if expected not in ("Integral", "Fractional", "Boolean"):
        return None  # every value is a String; Unknown (all-null baseline) constrains nothing
    threshold = float(config["datatype_check_threshold"])
    ratio = type_match_ratio(expected, observed, counts)
    if ratio >= threshold:
        return None
    # Real AWS text (spec §7.2), percentages printed as Java doubles.
    return _violation(
        name,
        DATA_TYPE_CHECK,
        f"Data type match requirement is not met. Expected data type: {expected}, "
        f"Expected match: {java_double(threshold * 100.0)}%. "
        f"Observed: Only {java_double(ratio * 100.0)}% of data is {expected}.",
    )


def _completeness(name, constraint, observed, config, counts) -> dict[str, str] | None:
    expected = constraint.get("completeness")
    present, missing = _present_missing(observed)
    if expected is None or present + missing == 0:
        return None
    completeness = present / (present + missing)
    if completeness >= float(expected):
        return None
    return _violation(
        name,
        COMPLETENESS_CHECK,
        f"Data completeness requirement is not met. Expected completeness: "
        f"{java_double(float(expected) * 100.0)}%. "
        f"Observed: Only {java_double(completeness * 100.0)}% of data is complete.",
    )


def _categorical_values(name, constraint, observed, config, counts) -> dict[str, str] | None:
    domain = (constraint.get("string_constraints") or {}).get("domains")
    buckets = categorical_counts(observed)
    if not domain or buckets is None:
        return None
    present, missing = _present_missing(observed)
    if present + missing == 0:
        return None
    allowed = {str(v) for v in domain}
    inside = sum(c for value, c in buckets.items() if value in allowed)
    # Deequ `isContainedIn`: Compliance of "`col` IS NULL OR `col` IN (...)" over all rows.
    ratio = (missing + inside) / (present + missing)
    if ratio >= float(config["domain_content_threshold"]):
        return None
    # Deequ's generic failure text, the one AWS's own report parser expects (spec §7.2).
    text = f"Value: {java_double(ratio)} does not meet the constraint requirement!"
    return _violation(name, CATEGORICAL_VALUES_CHECK, text)


def _violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


__all__ = [
    "BASELINE_DRIFT_CHECK", "CATEGORICAL_VALUES_CHECK", "COMPLETENESS_CHECK", "DATA_TYPE_CHECK", "EXTRA_COLUMN_CHECK",
    "MISSING_COLUMN_CHECK", "drift_distances", "find_violations", "measure_drift", "type_match_ratio",
]

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
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from watchkeeper.analysis import distance
from watchkeeper.analysis.aws_json import java_double
from watchkeeper.analysis.check_config import disabled, feature_config, global_config
from watchkeeper.analysis.types import BOOLEAN_PATTERN, FRACTIONAL_PATTERN, INTEGRAL_PATTERN, NUMERIC_TYPES

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
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
) -> list[dict[str, str]]:
    """The violations of `constraints` by the window described by `current_statistics`.

    `baseline_statistics` supplies the baseline distributions for baseline_drift_check (KLL sketches,
    categorical buckets); without it no drift is checked. `type_counts` optionally gives, per feature,
    Deequ's data-type histogram of the window's raw values (`{"Integral": n, "Fractional": n,
    "String": n, "Boolean": n, "Unknown": n}`, or a `types.TypeCounts`); when absent the type ratio is
    read from the statistics document (see `type_match_ratio`).
    """
    shared = global_config(constraints)
    if disabled(shared["evaluate_constraints"]):
        return []
    current = _by_name(current_statistics)
    baseline = _by_name(baseline_statistics) if baseline_statistics else {}
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
        # whose type check failed"). drift_distances still measures it for the metrics.
        if name in baseline and not type_failed and not disabled(config["perform_comparison"]):
            found = _baseline_drift(name, constraint, baseline[name], observed, config)
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


def drift_distances(
    baseline_statistics: Mapping[str, Any],
    current_statistics: Mapping[str, Any],
    constraints: Mapping[str, Any],
) -> dict[str, float]:
    """The drift distance of every feature both documents describe, violated or not.

    What `feature_baseline_drift_<feature>` metrics report (spec §8). Uses each feature's method and
    `perform_comparison`; ChiSquared features report their p-value. Features without comparable
    distributions are left out.
    """
    shared = global_config(constraints)
    current = _by_name(current_statistics)
    baseline = _by_name(baseline_statistics)
    result: dict[str, float] = {}
    for constraint in constraints.get("features") or []:
        name = constraint["name"]
        config = feature_config(shared, constraint)
        if name in current and name in baseline and not disabled(config["perform_comparison"]):
            measured = _drift(constraint, baseline[name], current[name], config)
            if measured is not None and not math.isnan(measured[0]):
                result[name] = measured[0]
    return result


# ------------------------------------------------------------------------------------------ statistics


def _by_name(statistics: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    return {feature["name"]: feature for feature in (statistics or {}).get("features") or []}


def _stats(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    return feature.get("numerical_statistics") or feature.get("string_statistics") or {}


def _present_missing(feature: Mapping[str, Any]) -> tuple[int, int]:
    common = _stats(feature).get("common") or {}
    return int(common.get("num_present", 0)), int(common.get("num_missing", 0))


def _sketch(feature: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kll = ((feature.get("numerical_statistics") or {}).get("distribution") or {}).get("kll") or {}
    sketch = kll.get("sketch")
    if not sketch or not sketch.get("data") or not any(sketch["data"]):
        return None  # AWS's own files can carry `"data": null` (spec §12.1, truncated log lines)
    return sketch


def _categorical_counts(feature: Mapping[str, Any]) -> dict[str, float] | None:
    distribution = (feature.get("string_statistics") or {}).get("distribution") or {}
    buckets = (distribution.get("categorical") or {}).get("buckets")
    if not buckets:
        return None
    counts: dict[str, float] = {}
    for bucket in buckets:
        key = str(bucket["value"])
        counts[key] = counts.get(key, 0.0) + float(bucket["count"])
    return counts


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
        sketch = _sketch(feature)
        if sketch is None:
            return 0.0
        values, weights = distance.sketch_samples(sketch)
        whole = weights[values == values.round()].sum()
        return float(whole / weights.sum()) if whole > 0 else 0.0
    if current_type == "String":
        present, _ = _present_missing(feature)
        buckets = _categorical_counts(feature) or {}
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
    buckets = _categorical_counts(observed)
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


def _drift(
    constraint: Mapping[str, Any],
    baseline: Mapping[str, Any],
    observed: Mapping[str, Any],
    config: Mapping[str, Any],
) -> tuple[float, str] | None:
    """`(distance, kind)` with kind "numeric", "linf" or "chisquared"; None when not comparable."""
    expected = constraint.get("inferred_type", baseline.get("inferred_type"))
    if expected in NUMERIC_TYPES:
        base_sketch, cur_sketch = _sketch(baseline), _sketch(observed)
        if base_sketch is None or cur_sketch is None:
            return None
        return distance.numerical_distance(base_sketch, cur_sketch, config["comparison_method"]), "numeric"
    if expected == "String":
        base_counts, cur_counts = _categorical_counts(baseline), _categorical_counts(observed)
        if not base_counts or not cur_counts:
            return None
        if config["categorical_drift_method"] == "ChiSquared":
            return distance.chi_squared_p_value(base_counts, cur_counts), "chisquared"
        return distance.categorical_distance(base_counts, cur_counts, config["comparison_method"]), "linf"
    return None


def _baseline_drift(name, constraint, baseline, observed, config) -> dict[str, str] | None:
    measured = _drift(constraint, baseline, observed, config)
    if measured is None:
        return None
    value, kind = measured
    if kind == "numeric":
        threshold = config["comparison_threshold"]
        if not value > float(threshold):
            return None
        # Real AWS text (spec §7.2); AWS's report parser reads the number with "distance: (.+) exceeds".
        text = f"Numerical distance: {java_double(value)} exceeds numerical threshold: {_number(threshold)}"
    elif kind == "linf":
        threshold = config["categorical_comparison_threshold"]
        if not value > float(threshold):
            return None
        text = (
            f"Categorical distance: {java_double(value)} exceeds categorical threshold: {_number(threshold)}"
        )
    else:
        threshold = config["categorical_comparison_threshold"]
        if math.isnan(value) or not value < float(threshold):
            return None
        text = (
            f"Categorical distance (ChiSquared p-value): {java_double(value)} is below categorical "
            f"threshold: {_number(threshold)}"
        )
    return _violation(name, BASELINE_DRIFT_CHECK, text)


def _violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


# ------------------------------------------------------------------------------------------ formatting


def _number(value: Any) -> str:
    """A threshold as written in constraints.json: an integer stays `0`, a double prints as Java does."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return java_double(float(value))

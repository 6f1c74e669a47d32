"""Suggest a data-quality `constraints.json` from a `statistics.json` document (spec §6).

Pure: a statistics document in, a constraints document out, both plain dicts in AWS's schema and key
order. The rules follow what SageMaker's baselining job wrote for the churn dataset (spec §12.1) and the
Deequ suggestion rules its analyzer is built on; the choices made where AWS is silent are listed in
`docs/analysis-checks.md`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from watchkeeper.analysis.types import NUMERIC_TYPES

# The analyzer container's defaults (spec §6.1: `DataQualityMonitoringConfig` /
# `DataQualityDistributionConstraints`). The docs' schema example shows 0.1 for the two check thresholds;
# the container and every real file use 1.0.
DEFAULT_MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}

# Deequ ColumnProfiler computes a full histogram only for columns with at most this many (approximately)
# distinct values (`DEFAULT_CARDINALITY_THRESHOLD`); without a histogram no domain is suggested.
DOMAIN_MAX_DISTINCT = 120
# Deequ CategoricalRangeRule: suggest `IS IN (...)` only when at most 10% of the distinct values occur
# exactly once ("TODO find a principled way to define this threshold" — the rule's own comment).
DOMAIN_MAX_UNIQUE_VALUE_RATIO = 0.1


def default_monitoring_config() -> dict[str, Any]:
    """A fresh copy of the container's default `monitoring_config`."""
    return copy.deepcopy(DEFAULT_MONITORING_CONFIG)


def suggest_constraints(
    statistics: Mapping[str, Any], monitoring_config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The constraints document a baselining job writes for `statistics`.

    `monitoring_config` is written as given (a deep copy) when passed — e.g. with the SDK's
    `categorical_drift_method` override applied, or the 2022 container's shape, which had no
    `categorical_*` keys — and defaults to `DEFAULT_MONITORING_CONFIG`.
    """
    features = [_suggest_feature(feature) for feature in statistics.get("features", [])]
    config = copy.deepcopy(dict(monitoring_config)) if monitoring_config is not None else None
    return {
        "version": 0.0,
        "features": features,
        "monitoring_config": config if config is not None else default_monitoring_config(),
    }


def _suggest_feature(feature: Mapping[str, Any]) -> dict[str, Any]:
    inferred_type = feature.get("inferred_type", "Unknown")
    suggestion: dict[str, Any] = {"name": feature["name"], "inferred_type": inferred_type}
    stats = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    common = stats.get("common") or {}
    present = int(common.get("num_present", 0))
    missing = int(common.get("num_missing", 0))
    # "observed non-null value percentage" (docs); the raw fraction, not Deequ's RetainCompletenessRule
    # lower confidence bound (spec §6.2: the churn file has 1.0 everywhere; the docs call it observed).
    suggestion["completeness"] = present / (present + missing) if present + missing else 0.0
    if inferred_type in NUMERIC_TYPES and "numerical_statistics" in feature:
        minimum = feature["numerical_statistics"].get("min")
        if minimum is not None:
            # Deequ NonNegativeNumbersRule; AWS writes the flag for every numeric feature (spec §6.2),
            # so a negative minimum is written as `false` rather than leaving the block out.
            suggestion["num_constraints"] = {"is_non_negative": float(minimum) >= 0.0}
    elif inferred_type == "String":
        domains = _domain(feature.get("string_statistics") or {}, present)
        if domains is not None:
            suggestion["string_constraints"] = {"domains": domains}
    return suggestion


def _domain(string_statistics: Mapping[str, Any], num_present: int) -> list[str] | None:
    """Deequ CategoricalRangeRule on the feature's categorical histogram, or None when it does not apply.

    Applies only to String features (the churn run gave Integral features no domains, spec §6.2), with a
    complete histogram (bucket counts adding up to `num_present`) of at most 120 values of which at most
    10% occur once. Values are listed by descending count (Deequ's `categorySorter`); ties keep the
    buckets' order (Deequ's follows a hash map's iteration order, i.e. none in particular).
    """
    buckets = ((string_statistics.get("distribution") or {}).get("categorical") or {}).get("buckets")
    if not buckets:
        return None
    distinct = string_statistics.get("distinct_count")
    if len(buckets) > DOMAIN_MAX_DISTINCT or (distinct is not None and distinct > DOMAIN_MAX_DISTINCT):
        return None
    if sum(float(b["count"]) for b in buckets) != float(num_present):
        return None  # a truncated histogram (top values only) cannot define the domain
    unique_ratio = sum(1 for b in buckets if float(b["count"]) == 1.0) / len(buckets)
    if unique_ratio > DOMAIN_MAX_UNIQUE_VALUE_RATIO:
        return None
    return [str(b["value"]) for b in sorted(buckets, key=lambda b: -float(b["count"]))]

"""Small statistics / constraints documents for the check tests, and the real AWS churn artifacts.

Sketches are written level by level by hand (`levels[h]` items weigh 2**h), so every expected distance
can be recomputed independently from the expanded samples with numpy/scipy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tests.aws_fixtures import aws_fixture

# AWS's own churn baseline, kept in the repository (tests/fixtures/aws/).
ARTIFACTS = aws_fixture("churn-data-quality")


def expand(levels: Sequence[Sequence[float]]) -> np.ndarray:
    """The sample a sketch stands for: each level-h item repeated 2**h times."""
    parts = [np.repeat(np.asarray(items, dtype=float), 2**h) for h, items in enumerate(levels)]
    return np.concatenate(parts) if parts else np.array([])


def numeric_feature(
    name: str,
    levels: Sequence[Sequence[float]],
    *,
    inferred_type: str | None = None,
    missing: int = 0,
) -> dict[str, Any]:
    sample = expand(levels)
    if inferred_type is None:
        inferred_type = "Integral" if np.all(sample == np.round(sample)) else "Fractional"
    return {
        "name": name,
        "inferred_type": inferred_type,
        "numerical_statistics": {
            "common": {"num_present": len(sample), "num_missing": missing},
            "mean": float(sample.mean()),
            "sum": float(sample.sum()),
            "std_dev": float(sample.std()),
            "min": float(sample.min()),
            "max": float(sample.max()),
            "distribution": {
                "kll": {
                    "buckets": [],
                    "sketch": {
                        "parameters": {"c": 0.64, "k": 2048.0},
                        "data": [[float(v) for v in items] for items in levels],
                    },
                }
            },
        },
    }


def string_feature(
    name: str, counts: Mapping[str, int], *, missing: int = 0, distinct: int | None = None
) -> dict[str, Any]:
    present = sum(counts.values())
    return {
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": present, "num_missing": missing},
            "distinct_count": float(len(counts) if distinct is None else distinct),
            "distribution": {
                "categorical": {"buckets": [{"value": v, "count": float(c)} for v, c in counts.items()]}
            },
        },
    }


def unknown_feature(name: str, rows: int) -> dict[str, Any]:
    return {
        "name": name,
        "inferred_type": "Unknown",
        "string_statistics": {"common": {"num_present": 0, "num_missing": rows}},
    }


def statistics(*features: dict[str, Any]) -> dict[str, Any]:
    rows = 0
    for feature in features:
        common = (feature.get("numerical_statistics") or feature.get("string_statistics"))["common"]
        rows = max(rows, common["num_present"] + common["num_missing"])
    return {"version": 0.0, "dataset": {"item_count": rows}, "features": list(features)}


def constraint(name: str, inferred_type: str, **extra: Any) -> dict[str, Any]:
    feature: dict[str, Any] = {"name": name, "inferred_type": inferred_type, "completeness": 1.0}
    if inferred_type in ("Integral", "Fractional"):
        feature["num_constraints"] = {"is_non_negative": True}
    feature.update(extra)
    return feature


def constraints(*features: dict[str, Any], **config: Any) -> dict[str, Any]:
    """A constraints document; keyword arguments set monitoring_config keys (distribution ones nested)."""
    monitoring = {
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
    for key, value in config.items():
        if key in monitoring["distribution_constraints"]:
            monitoring["distribution_constraints"][key] = value
        else:
            monitoring[key] = value
    return {"version": 0.0, "features": list(features), "monitoring_config": monitoring}


def real_constraints() -> dict[str, Any]:
    return json.loads((ARTIFACTS / "constraints.json").read_text())


def real_statistics(*, with_reconstructed_sketches: bool = True) -> dict[str, Any]:
    """AWS's statistics.json (first 33 features); the 4 sketches cut from the log filled in on request."""
    document = json.loads((ARTIFACTS / "statistics.partial.json").read_text())
    if with_reconstructed_sketches:
        rebuilt = json.loads((ARTIFACTS / "reconstructed-sketch-data.json").read_text())["features"]
        for feature in document["features"]:
            sketch = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]
            if sketch["data"] is None:
                sketch["data"] = rebuilt[feature["name"]]
    return document


def feature_of(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in document["features"] if f["name"] == name)


def sketch_of(feature: Mapping[str, Any]) -> dict[str, Any]:
    return feature["numerical_statistics"]["distribution"]["kll"]["sketch"]


def replaced(document: Mapping[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` with the feature of the same name replaced."""
    copied = copy.deepcopy(dict(document))
    copied["features"] = [feature if f["name"] == feature["name"] else f for f in copied["features"]]
    return copied

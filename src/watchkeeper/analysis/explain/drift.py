"""Feature attribution drift (spec §11): nDCG of the current ranking of features against the baseline's.

With F the features sorted by baseline global SHAP value (descending), a(f) the **baseline** attribution and F'
the features sorted by the current global SHAP value: DCG = sum a(F'_i)/log2(i+1), iDCG = sum a(F_i)/log2(i+1),
nDCG = DCG/iDCG. AWS raises a `feature_attribution_drift_check` violation per label when nDCG < 0.9, with the
text "Feature attribution drift <nDCG> exceeds threshold <threshold>" (sic: "exceeds" though nDCG is below).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

THRESHOLD = 0.9


def ndcg(baseline: Mapping[str, float], current: Mapping[str, float]) -> float:
    """nDCG of `current`'s ranking, scored by `baseline`'s attributions (1.0 when they rank alike), computed as
    scikit-learn's `ndcg_score(y_true=[baseline], y_score=[current])`, which the AWS docs name: features tied
    in `current` share their group's mean gain, and a baseline with no attribution at all scores 0. A feature
    in only one of the two counts as attribution 0 in the other."""
    features = list(baseline) + [f for f in current if f not in baseline]
    if not features:
        return 1.0
    base = np.array([float(baseline.get(f, 0.0)) for f in features])
    now = np.array([float(current.get(f, 0.0)) for f in features])
    # the arithmetic in scikit-learn's order, so the violation text carries the same digits as AWS's
    discount = 1 / (np.log(np.arange(len(features)) + 2) / np.log(2))
    ideal = float(discount.dot(base[np.argsort(base)[::-1]]))
    if ideal == 0.0:
        return 0.0
    _, group, counts = np.unique(-now, return_inverse=True, return_counts=True)
    gains = np.zeros(counts.size)
    np.add.at(gains, group.ravel(), base)
    gains /= counts
    ends = np.cumsum(discount)[np.cumsum(counts) - 1]
    discounts = np.empty(counts.size)
    discounts[0] = ends[0]
    discounts[1:] = np.diff(ends)
    return float((gains * discounts).sum()) / ideal


def attribution_drift_violations(current: Mapping[str, Any], baseline: Mapping[str, Any],
                                 threshold: float = THRESHOLD) -> list[dict[str, str]]:
    """The violations of a current analysis.json against the baseline analysis.json, one per drifted label.
    Labels pair by name; when no name matches but both have as many labels, by position (a baseline's label
    key can be a value such as "0.7956783771514893", spec §11)."""
    now = _kernel_shap(current, "current")
    base = _kernel_shap(baseline, "baseline")
    pairs = [(label, label) for label in now if label in base]
    if not pairs and len(now) == len(base):
        pairs = list(zip(now, base, strict=True))
    violations = []
    for label, base_label in pairs:
        value = ndcg(base[base_label]["global_shap_values"], now[label]["global_shap_values"])
        if value < threshold:
            violations.append({
                "label": label,
                "metric_name": "shap",
                "constraint_check_type": "feature_attribution_drift_check",
                "description": f"Feature attribution drift {value!r} exceeds threshold {threshold!r}",
            })
    return violations


def _kernel_shap(document: Mapping[str, Any], which: str) -> Mapping[str, Any]:
    try:
        labels = document["explanations"]["kernel_shap"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the {which} analysis has no explanations.kernel_shap section") from exc
    for label, entry in labels.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("global_shap_values"), Mapping):
            raise ValueError(f"the {which} analysis has no global_shap_values for label {label!r}")
    return labels

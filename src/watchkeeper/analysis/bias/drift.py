"""`bias_drift_check` violations: an execution's analysis.json against the baseline's (spec §10.4).

Rule (AWS's docs, and all nine violations of the real execution): a metric violates when it is farther from
its neutral value than the baseline's, `|current| > |baseline|`; Disparate Impact is neutral at 1, so
`|current - 1| > |baseline - 1|` (UNVERIFIED for DI). An infinite current value violates against any finite
baseline and not against an infinity; a NaN, a null (a metric that could not be computed) or a metric,
facet or facet value the baseline lacks is not checked. Only post-training metrics are checked by default:
the real execution flagged post-training metrics only (UNVERIFIED that pre-training ones are never checked).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from watchkeeper.analysis.bias.names import NEUTRAL_AT_ONE, POST_TRAINING_KEY

CHECK_TYPE = "bias_drift_check"


def bias_drift_violations(current: Mapping[str, Any], baseline: Mapping[str, Any], *,
                          sections: Iterable[str] = (POST_TRAINING_KEY,)) -> list[dict[str, str]]:
    """The violations, in the current document's order (facets, their entries, metrics alphabetically),
    each with the members in the order of AWS's constraint_violations.json."""
    violations = []
    for key in sections:
        now, then = current.get(key), baseline.get(key)
        if not isinstance(now, Mapping) or not isinstance(then, Mapping):
            continue
        bounds = _values(then)
        for facet, value_text, name, value in _metrics(now):
            bound = bounds.get((facet, value_text, name))
            if _violates(name, value, bound):
                violations.append({
                    "constraint_check_type": CHECK_TYPE,
                    "description": f"Metric value {number_text(value)} doesn't meet the baseline constraint "
                                   f"requirement {number_text(bound)}",
                    "facet": facet,
                    "facet_value": value_text,
                    "metric_name": name,
                })
    return violations


def number_text(value: Any) -> str:
    """A metric value as the violation text prints it: Python's repr of the double; Infinity, -Infinity, NaN."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _metrics(section: Mapping[str, Any]) -> Iterable[tuple[str, str, str, Any]]:
    for facet, entries in (section.get("facets") or {}).items():
        for entry in entries or []:
            for metric in entry.get("metrics") or []:
                yield facet, str(entry.get("value_or_threshold")), metric.get("name"), metric.get("value")


def _values(section: Mapping[str, Any]) -> dict[tuple[str, str, str], Any]:
    return {(facet, value_text, name): value for facet, value_text, name, value in _metrics(section)}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _violates(name: str, value: Any, bound: Any) -> bool:
    if not (_number(value) and _number(bound)):
        return False
    neutral = 1.0 if name in NEUTRAL_AT_ONE else 0.0
    return abs(value - neutral) > abs(bound - neutral)


def violations_document(violations: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """constraint_violations.json as the real execution has it (written only when there are violations)."""
    return {"version": "1.0", "violations": [dict(v) for v in violations]}

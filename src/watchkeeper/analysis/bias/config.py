"""The bias part of Clarify's analysis_config.json, checked and typed (spec §10.1).

A monitoring config (ModelBiasMonitor's `BiasAnalysisConfig`) has no `methods`: then every pre-training and
every post-training metric is asked for, and the caller's `pre_training` / `post_training` flags of
`bias_analysis` decide which sections are written. A processing-job config with `methods` asks only for the
stages it names: a stage it leaves out gets no metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from watchkeeper.analysis.bias.names import POST_TRAINING, PRE_TRAINING

Value = str | int | float


class FacetSpec(NamedTuple):
    """One `facet` entry: a column (name or index) and its sensitive values or threshold (None: each
    distinct value of the column in turn)."""

    name_or_index: str | int
    value_or_threshold: tuple[Value, ...] | None


@dataclass(frozen=True)
class BiasConfig:
    label: str | int
    label_values_or_threshold: tuple[Value, ...]
    facets: tuple[FacetSpec, ...]
    group_variable: str | int | None = None
    probability_threshold: float | None = None
    pre_training_methods: tuple[str, ...] = tuple(PRE_TRAINING)
    post_training_methods: tuple[str, ...] = tuple(POST_TRAINING)
    headers: tuple[str, ...] | None = None


def bias_config(document: Mapping[str, Any]) -> BiasConfig:
    """`BiasConfig` of an analysis_config.json document; `ValueError` naming the member when it is bad."""
    if not isinstance(document, Mapping):
        raise ValueError("analysis_config must be a JSON object")
    label = document.get("label")
    if not _is_column(label):
        raise ValueError(f"label must be a column name or index, got {label!r}")
    group = document.get("group_variable")
    if group is not None and not _is_column(group):
        raise ValueError(f"group_variable must be a column name or index, got {group!r}")
    pre, post = _methods(document.get("methods"))
    return BiasConfig(
        label=label,
        label_values_or_threshold=_values(document.get("label_values_or_threshold"), "label_values_or_threshold"),
        facets=_facets(document.get("facet")),
        group_variable=group,
        probability_threshold=_probability_threshold(document.get("probability_threshold")),
        pre_training_methods=pre,
        post_training_methods=post,
        headers=_headers(document.get("headers")),
    )


def _is_column(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (isinstance(value, int) and not isinstance(value, bool)
                                                        and value >= 0)


def _values(values: Any, member: str) -> tuple[Value, ...]:
    if not isinstance(values, list) or not values:
        raise ValueError(f"{member} must be a non-empty list of values, got {values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"{member} must hold strings or numbers, got {value!r}")
    return tuple(values)


def _facets(facets: Any) -> tuple[FacetSpec, ...]:
    if not isinstance(facets, list) or not facets:
        raise ValueError(f"facet must be a non-empty list of {{name_or_index, value_or_threshold}}, got {facets!r}")
    specs = []
    for index, facet in enumerate(facets):
        member = f"facet[{index}]"
        if not isinstance(facet, Mapping):
            raise ValueError(f"{member} must be an object, got {facet!r}")
        name = facet.get("name_or_index")
        if not _is_column(name):
            raise ValueError(f"{member}.name_or_index must be a column name or index, got {name!r}")
        values = facet.get("value_or_threshold")
        specs.append(FacetSpec(name, None if values is None else _values(values, f"{member}.value_or_threshold")))
    return tuple(specs)


def _probability_threshold(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"probability_threshold must be a number, got {value!r}")
    return float(value)


def _headers(headers: Any) -> tuple[str, ...] | None:
    if headers is None:
        return None
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        raise ValueError(f"headers must be a list of strings, got {headers!r}")
    return tuple(headers)


def _methods(methods: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if methods is None:
        return tuple(PRE_TRAINING), tuple(POST_TRAINING)
    if not isinstance(methods, Mapping):
        raise ValueError(f"methods must be an object, got {methods!r}")
    return (_stage(methods, "pre_training_bias", PRE_TRAINING),
            _stage(methods, "post_training_bias", POST_TRAINING))


def _stage(methods: Mapping[str, Any], key: str, known: Mapping[str, str]) -> tuple[str, ...]:
    stage = methods.get(key)
    if stage is None:
        return ()
    member = f"methods.{key}.methods"
    if not isinstance(stage, Mapping) or "methods" not in stage:
        raise ValueError(f"methods.{key} must be an object with 'methods', got {stage!r}")
    asked = stage["methods"]
    if isinstance(asked, str) and asked.lower() == "all":
        return tuple(known)
    if not isinstance(asked, list) or not asked or not all(isinstance(m, str) for m in asked):
        raise ValueError(f"{member} must be \"all\" or a non-empty list of metric names, got {asked!r}")
    wanted = {m.upper() for m in asked}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"{member} names unknown metrics {unknown}; known: {', '.join(known)}")
    return tuple(name for name in known if name in wanted)  # analysis.json's order, whatever the request's

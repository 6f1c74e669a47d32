"""The `methods.shap` section of Clarify's analysis_config.json (spec §11), checked once, as a frozen value.

Members and defaults as the Clarify docs and the SageMaker SDK's `SHAPConfig` write them: `agg_method` defaults
to mean_abs, `use_logit` and `save_local_shap_values` to false, `baseline` and `num_clusters` exclude each other.
A baseline is a list of rows (kept as given: lists for CSV, objects for JSON Lines, which the job reads by its
dataset format) or an S3 URI string (kept; the job reads it). A bad member raises ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

AGG_METHODS = ("mean_abs", "median", "mean_sq")
# Neither baseline nor num_clusters given: Clarify clusters with "a default value" it does not document.
DEFAULT_NUM_CLUSTERS = 10


@dataclass(frozen=True)
class ShapConfig:
    headers: tuple[str, ...] | None
    baseline: tuple[Any, ...] | str | None  # rows, or an S3 URI
    num_samples: int | None  # None: Clarify's default, 2 x features + 2048 (capped at 2^features - 2)
    agg_method: str
    use_logit: bool
    save_local_shap_values: bool
    seed: int | None
    num_clusters: int | None
    features_to_explain: tuple[str | int, ...] | None

    @property
    def clusters(self) -> int | None:
        """How many k-means rows summarise the dataset when no baseline is given (None: a baseline is)."""
        if self.baseline is not None:
            return None
        return self.num_clusters if self.num_clusters is not None else DEFAULT_NUM_CLUSTERS


def shap_config(document: Mapping[str, Any]) -> ShapConfig:
    """The SHAP settings of an analysis_config.json document."""
    methods = document.get("methods")
    if not isinstance(methods, Mapping) or not isinstance(methods.get("shap"), Mapping):
        raise ValueError("methods.shap: the analysis configuration asks for no SHAP analysis")
    shap = methods["shap"]
    baseline = _baseline(shap.get("baseline"))
    num_clusters = _positive_int(shap, "num_clusters")
    if baseline is not None and num_clusters is not None:
        raise ValueError("methods.shap.baseline and methods.shap.num_clusters cannot be given together")
    agg_method = shap.get("agg_method", "mean_abs")
    if agg_method is None:
        agg_method = "mean_abs"
    if agg_method not in AGG_METHODS:
        raise ValueError(f"methods.shap.agg_method must be one of {', '.join(AGG_METHODS)}, not {agg_method!r}")
    seed = shap.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"methods.shap.seed must be an integer, not {seed!r}")
    return ShapConfig(
        headers=_headers(document.get("headers")),
        baseline=baseline,
        num_samples=_positive_int(shap, "num_samples"),
        agg_method=agg_method,
        use_logit=_flag(shap, "use_logit"),
        save_local_shap_values=_flag(shap, "save_local_shap_values"),
        seed=seed,
        num_clusters=num_clusters,
        features_to_explain=_features(shap.get("features_to_explain")),
    )


def explained_columns(config: ShapConfig, width: int) -> list[int]:
    """The feature indices `features_to_explain` names (all features when absent), by header or index."""
    if config.features_to_explain is None:
        return list(range(width))
    headers = list(config.headers or [])
    columns = []
    for feature in config.features_to_explain:
        if isinstance(feature, int):
            if not 0 <= feature < width:
                raise ValueError(f"methods.shap.features_to_explain: index {feature} is outside 0..{width - 1}")
            columns.append(feature)
        elif feature in headers[:width]:
            columns.append(headers.index(feature))
        else:
            raise ValueError(f"methods.shap.features_to_explain: {feature!r} is not among the headers")
    return columns


def _baseline(value: Any) -> tuple[Any, ...] | str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise ValueError("methods.shap.baseline is an empty string")
        return value
    if isinstance(value, Mapping) and isinstance(value.get("instances"), Sequence):
        value = value["instances"]  # a JSON dataset's baseline may come wrapped as {"instances": [...]}
    if not isinstance(value, Sequence) or not value:
        raise ValueError("methods.shap.baseline must be an S3 URI or a list of at least one row")
    return tuple(tuple(row) if isinstance(row, list) else row for row in value)


def _positive_int(section: Mapping[str, Any], name: str) -> int | None:
    value = section.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"methods.shap.{name} must be a positive integer, not {value!r}")
    return value


def _flag(section: Mapping[str, Any], name: str) -> bool:
    value = section.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError(f"methods.shap.{name} must be true or false, not {value!r}")
    return value


def _headers(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise ValueError("headers must be a list of strings")
    return tuple(value)


def _features(value: Any) -> tuple[str | int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ValueError("methods.shap.features_to_explain must be a non-empty list of names or indices")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ValueError(f"methods.shap.features_to_explain: {item!r} is neither a name nor an index")
    return tuple(value)

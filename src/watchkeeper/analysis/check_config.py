"""The monitoring configuration each data-quality check sees (spec §6.1), for `checks`.

`global_config` lays a constraints document's `monitoring_config` over the analyzer container's defaults;
`feature_config` applies one feature's overrides on top. Both return one flat mapping (the keys of
`distribution_constraints` lifted beside the others) and reject unknown drift methods with a reason that
names the key and where it was written. Rules and their evidence: `docs/analysis-checks.md`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchkeeper.analysis.suggest import DEFAULT_MONITORING_CONFIG


def global_config(constraints: Mapping[str, Any]) -> dict[str, Any]:
    """`monitoring_config` flattened over the container defaults (AWS's 2022 files lack categorical_*)."""
    flat = _flatten(DEFAULT_MONITORING_CONFIG)
    flat.update(_flatten(constraints.get("monitoring_config") or {}))
    _validate(flat, "monitoring_config")
    return flat


def feature_config(global_config: Mapping[str, Any], constraint: Mapping[str, Any]) -> dict[str, Any]:
    """The global config with the feature's overrides applied.

    Accepted spellings (spec §6.1): `monitoringConfigOverrides` (docs), `monitoring_config_overrides`,
    and the SDK's `string_constraints.monitoring_config_overrides` (`Constraints.set_monitoring`). Keys
    are those of `monitoring_config`, flat or under `distribution_constraints`.
    """
    overrides = [
        constraint.get("monitoringConfigOverrides"),
        constraint.get("monitoring_config_overrides"),
        (constraint.get("string_constraints") or {}).get("monitoring_config_overrides"),
    ]
    config = dict(global_config)
    if not any(overrides):
        return config
    for override in overrides:
        if override:
            config.update(_flatten(override))
    _validate(config, f"feature {constraint['name']!r} monitoring config overrides")
    return config


def disabled(flag: Any) -> bool:
    """True for `Disabled` in any letter case (Enabled/Disabled switches are compared that way)."""
    return str(flag).strip().lower() == "disabled"


def _flatten(config: Mapping[str, Any]) -> dict[str, Any]:
    flat = {key: value for key, value in config.items() if key != "distribution_constraints"}
    flat.update(config.get("distribution_constraints") or {})
    return flat


def _validate(config: Mapping[str, Any], where: str) -> None:
    method = config["comparison_method"]
    if method not in ("Simple", "Robust"):
        raise ValueError(
            f"constraints.json {where}: comparison_method must be Simple or Robust, not {method!r}"
        )
    drift_method = config["categorical_drift_method"]
    if drift_method not in ("LInfinity", "ChiSquared"):
        raise ValueError(
            f"constraints.json {where}: categorical_drift_method must be LInfinity or ChiSquared, "
            f"not {drift_method!r}"
        )

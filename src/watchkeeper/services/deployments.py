"""What an endpoint serves, frozen from its config and models: the variants, their servers and the capture.

Kept apart from the endpoint service so the runtime proxy, executions and Clarify's model-server lookup read
a deployment without the service, and so a deployment's changes (UpdateEndpoint's retained properties,
UpdateEndpointWeightsAndCapacities' weights and counts) are pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

UPSTREAM_ENV = "WATCHKEEPER_UPSTREAM_URL"


def upstream_of(model_body: dict[str, Any]) -> str | None:
    containers = [model_body["PrimaryContainer"]] if model_body.get("PrimaryContainer") else []
    containers += model_body.get("Containers") or []
    for container in containers:
        url = (container.get("Environment") or {}).get(UPSTREAM_ENV)
        if url:
            return str(url).rstrip("/")
    return None


@dataclass(frozen=True)
class Variant:
    name: str
    model_name: str
    weight: float
    instance_count: int
    image: str | None
    upstream_url: str | None


@dataclass(frozen=True)
class Deployment:
    """What an endpoint serves: frozen from its config and models when created or updated."""

    config_name: str
    variants: tuple[Variant, ...]
    data_capture: dict[str, Any] | None

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "config_name": self.config_name,
                "variants": [v.__dict__ for v in self.variants],
                "data_capture": self.data_capture,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        raw = orjson.loads(text)
        return cls(
            config_name=raw["config_name"],
            variants=tuple(Variant(**v) for v in raw["variants"]),
            data_capture=raw["data_capture"],
        )


def retained(old: Deployment, new: Deployment, params: dict[str, Any]) -> Deployment:
    """RetainAllVariantProperties: keep weights and counts; keep capture unless DataCaptureConfig is excluded."""
    excluded = {p["VariantPropertyType"] for p in params.get("ExcludeRetainedVariantProperties") or []}
    previous = {v.name.lower(): v for v in old.variants}
    variants = []
    for variant in new.variants:
        before = previous.get(variant.name.lower())
        if before is not None:
            weight = variant.weight if "DesiredWeight" in excluded else before.weight
            count = variant.instance_count if "DesiredInstanceCount" in excluded else before.instance_count
            variant = Variant(variant.name, variant.model_name, weight, count, variant.image, variant.upstream_url)
        variants.append(variant)
    capture = new.data_capture if "DataCaptureConfig" in excluded else old.data_capture
    return Deployment(new.config_name, tuple(variants), capture)


def reweighted(old: Deployment, changes: dict[str, tuple[float | None, int | None]]) -> Deployment:
    """The deployment with the named variants' (lower-cased names) weights and counts replaced where given."""
    variants = []
    for v in old.variants:
        weight, count = changes.get(v.name.lower(), (None, None))
        variants.append(
            Variant(
                v.name,
                v.model_name,
                v.weight if weight is None else weight,
                v.instance_count if count is None else count,
                v.image,
                v.upstream_url,
            )
        )
    return Deployment(old.config_name, tuple(variants), old.data_capture)

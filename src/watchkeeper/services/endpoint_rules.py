"""The rules AWS applies to endpoint configs and variant updates beyond botocore's model.

botocore's model gives serverless memory as an integer range (1024..6144); AWS accepts only whole gigabytes
and answers anything else in the Coral form of an enum. The model cannot say that variant names are unique,
that a variant is either instance-based or serverless, or that a config does not mix the two; AWS checks
those on its side, and so do we, before anything is written.
"""

from __future__ import annotations

from typing import Any

from watchkeeper.errors import ValidationError

SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)


def check_endpoint_config(body: dict[str, Any]) -> None:
    """Raise the ValidationException AWS sends for a config the model admits but AWS refuses."""
    variants = body["ProductionVariants"]
    problems: list[str] = []
    for i, variant in enumerate(variants, start=1):
        serverless = variant.get("ServerlessConfig")
        if not serverless:
            continue
        memory = serverless.get("MemorySizeInMB")
        if memory is not None and memory not in SERVERLESS_MEMORY_SIZES:
            sizes = ", ".join(str(size) for size in SERVERLESS_MEMORY_SIZES)
            problems.append(
                f"Value '{memory}' at 'productionVariants.{i}.member.serverlessConfig.memorySizeInMB' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{sizes}]"
            )
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(problems))
    seen: set[str] = set()
    for variant in variants:
        name = variant["VariantName"]
        if name.lower() in seen:
            raise ValidationError(f'The variant name "{name}" was non-unique within the request.')
        seen.add(name.lower())
    for variant in variants:
        serverless = variant.get("ServerlessConfig")
        if not serverless:
            continue
        if variant.get("InstanceType") or variant.get("InitialInstanceCount") is not None:
            raise ValidationError(
                f"Production variant {variant['VariantName']} has a ServerlessConfig together with InstanceType "
                "or InitialInstanceCount: a variant is either instance-based or serverless."
            )
        provisioned = serverless.get("ProvisionedConcurrency")
        if provisioned is not None and provisioned > serverless["MaxConcurrency"]:
            raise ValidationError(
                f"ProvisionedConcurrency ({provisioned}) of production variant {variant['VariantName']} must be "
                f"less than or equal to MaxConcurrency ({serverless['MaxConcurrency']})."
            )
    kinds = {bool(v.get("ServerlessConfig")) for v in variants}
    if len(kinds) > 1:
        raise ValidationError("An endpoint configuration cannot mix serverless and instance-based production variants.")


def desired_changes(
    params: dict[str, Any], present: list[str], config_name: str
) -> dict[str, tuple[float | None, int | None]]:
    """UpdateEndpointWeightsAndCapacities' request as {variant name (lower case): (weight, count)}, or AWS's error.

    `present` holds the endpoint's variant names as deployed."""
    changes: dict[str, tuple[float | None, int | None]] = {}
    for desired in params["DesiredWeightsAndCapacities"]:
        name = desired["VariantName"]
        if name.lower() in changes:
            raise ValidationError(f'The variant name "{name}" was non-unique within the request.')
        weight, count = desired.get("DesiredWeight"), desired.get("DesiredInstanceCount")
        if weight is None and count is None and not desired.get("ServerlessUpdateConfig"):
            raise ValidationError(
                f'Variant "{name}": one of DesiredWeight, DesiredInstanceCount or ServerlessUpdateConfig is required.'
            )
        changes[name.lower()] = (None if weight is None else float(weight), count)
    known = {n.lower() for n in present}
    missing = [d["VariantName"] for d in params["DesiredWeightsAndCapacities"] if d["VariantName"].lower() not in known]
    if missing:
        raise ValidationError(
            f'The variant name(s) "{", ".join(missing)}" is/are not present within endpoint configuration '
            f'"{config_name}".'
        )
    return changes

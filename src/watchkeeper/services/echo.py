"""What Describe echoes back beyond the request: the defaults SDKs index without checking."""

from __future__ import annotations

from typing import Any


def with_network_defaults(network: dict[str, Any] | None) -> dict[str, Any] | None:
    """The SDK's attach() reads both booleans directly whenever NetworkConfig is present (spec §1.5)."""
    if network is None:
        return None
    return {"EnableInterContainerTrafficEncryption": False, "EnableNetworkIsolation": False, **network}


def echo_job_definition(definition: dict[str, Any]) -> dict[str, Any]:
    """An inline MonitoringJobDefinition as Describe returns it: always with `Environment`."""
    echoed = {**definition, "Environment": definition.get("Environment", {})}
    if "NetworkConfig" in definition:
        echoed["NetworkConfig"] = with_network_defaults(definition["NetworkConfig"])
    return echoed

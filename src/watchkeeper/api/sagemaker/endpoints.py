"""Models, endpoint configs and endpoints."""

from __future__ import annotations

from typing import Any

from watchkeeper.api.sagemaker.types import Handler
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext


def create_model(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"ModelArn": s.endpoints.create_model(ctx, p)}


def describe_model(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.endpoints.models.describe(ctx, p["ModelName"])


def delete_model(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.endpoints.models.delete(ctx, p["ModelName"])
    return {}


def list_models(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.endpoints.models.list(ctx, p, "Models")


def create_config(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointConfigArn": s.endpoints.create_endpoint_config(ctx, p)}


def describe_config(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.endpoints.configs.describe(ctx, p["EndpointConfigName"])


def delete_config(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.endpoints.configs.delete(ctx, p["EndpointConfigName"])
    return {}


def list_configs(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.endpoints.configs.list(ctx, p, "EndpointConfigs")


def create_endpoint(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointArn": s.endpoints.create(ctx, p)}


def describe_endpoint(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.endpoints.describe(ctx, p["EndpointName"])


def update_endpoint(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointArn": s.endpoints.update(ctx, p)}


def update_weights(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointArn": s.endpoints.update_weights(ctx, p)}


def delete_endpoint(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    s.endpoints.delete(ctx, p["EndpointName"])
    return {}


def list_endpoints(s: Services, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return s.endpoints.list(ctx, p)


OPERATIONS: dict[str, Handler] = {
    "CreateModel": create_model,
    "DescribeModel": describe_model,
    "DeleteModel": delete_model,
    "ListModels": list_models,
    "CreateEndpointConfig": create_config,
    "DescribeEndpointConfig": describe_config,
    "DeleteEndpointConfig": delete_config,
    "ListEndpointConfigs": list_configs,
    "CreateEndpoint": create_endpoint,
    "DescribeEndpoint": describe_endpoint,
    "UpdateEndpoint": update_endpoint,
    "UpdateEndpointWeightsAndCapacities": update_weights,
    "DeleteEndpoint": delete_endpoint,
    "ListEndpoints": list_endpoints,
}

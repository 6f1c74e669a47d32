"""Which server answers for a model: a Clarify job's `predictor.model_name`, or the monitored endpoint's
model when the config names none (jobs/predictor_binding.py). Looked up in the job's own account."""

from __future__ import annotations

import orjson

from watchkeeper.services.context import RequestContext
from watchkeeper.services.endpoints import UPSTREAM_ENV, Deployment, upstream_of
from watchkeeper.services.lookup import find_named
from watchkeeper.store import Database
from watchkeeper.store.tables import endpoints, models


def model_server(db: Database, ctx: RequestContext, *, model_name: str | None, endpoint_name: str | None) -> str:
    """The model server's URL; LookupError says why there is none."""
    with db.read() as conn:
        if model_name:
            row = find_named(conn, models, ctx, model_name)
            if row is None:
                raise LookupError(f'Could not find model "{ctx.arn("model", model_name)}".')
            url = upstream_of(orjson.loads(row.body))
            if not url:
                raise LookupError(f"Model {model_name} names no model server ({UPSTREAM_ENV} in its container's "
                                  "Environment), so Watchkeeper cannot call it.")
            return url
        if endpoint_name:
            endpoint = find_named(conn, endpoints, ctx, endpoint_name)
            if endpoint is None:
                raise LookupError(f'Could not find endpoint "{ctx.arn("endpoint", endpoint_name)}".')
            for variant in Deployment.from_json(endpoint.deployment).variants:
                if variant.upstream_url:
                    return variant.upstream_url
            raise LookupError(f"Endpoint {endpoint_name} has no model server to call.")
    raise LookupError("The analysis config names no predictor model_name and the job monitors no endpoint.")

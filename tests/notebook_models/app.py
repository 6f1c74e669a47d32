"""The ASGI app of a notebook model server under SageMaker's container contract: GET /ping, POST /invocations."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.notebook_models.models import Container, load_container


def create_app(model: str | Container, batch: bool = False) -> Starlette:
    """An app serving `model` ("linear-learner", "xgboost", or a container object already loaded)."""
    container = load_container(model, batch) if isinstance(model, str) else model

    async def ping(_: Request) -> Response:
        return Response(b"", status_code=200)

    async def invocations(request: Request) -> Response:
        body = await request.body()
        answer = container.invoke(body, request.headers.get("content-type"), request.headers.get("accept"))
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    return Starlette(routes=[Route("/ping", ping), Route("/invocations", invocations, methods=["POST"])])

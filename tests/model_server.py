"""A small real model server under SageMaker's container contract (GET /ping, POST /invocations).

A logistic model over numpy: CSV rows in → one probability per line out; JSON `{"instances": [[...]]}` in →
`{"predictions": [...]}` out. Behaviours for failure tests: a body containing `fail` answers 500, `slow`
sleeps before answering. Run: `python -m tests.model_server --port N`.
"""

from __future__ import annotations

import argparse
import asyncio
import io

import numpy as np
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WEIGHTS = np.array([0.02, -0.5, 0.003, 0.1])


def predict(rows: np.ndarray) -> np.ndarray:
    width = min(rows.shape[1], WEIGHTS.size)
    return 1.0 / (1.0 + np.exp(-(rows[:, :width] @ WEIGHTS[:width])))


async def ping(_: Request) -> Response:
    return Response("", status_code=200)


async def invocations(request: Request) -> Response:
    body = await request.body()
    if b"fail" in body:
        return Response("model exploded on this input", status_code=500, media_type="text/plain")
    if b"redirect" in body:  # to an internal service: Watchkeeper must not follow it
        return Response(status_code=302, headers={"Location": "/internal"})
    if b"huge" in body:  # past SageMaker's 6 MB answer limit
        return Response(b"9" * (7 * 1024 * 1024), media_type="text/csv")
    if b"slow" in body:
        await asyncio.sleep(3)
    attributes = request.headers.get("x-amzn-sagemaker-custom-attributes")
    headers = {"X-Amzn-SageMaker-Custom-Attributes": f"echo:{attributes}"} if attributes else {}
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            rows = np.asarray(orjson.loads(body)["instances"], dtype=float)
            scores = predict(np.atleast_2d(rows))
            return Response(
                orjson.dumps({"predictions": scores.round(6).tolist()}), media_type="application/json", headers=headers
            )
        rows = np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2)
    except (ValueError, KeyError) as exc:
        return Response(f"bad input: {exc}", status_code=400, media_type="text/plain")
    text = "\n".join(f"{p:.6f}" for p in predict(rows))
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


async def internal(_: Request) -> Response:
    """Stands for an internal service beside the model server, which no endpoint may relay to."""
    return Response("internal secret", media_type="text/plain")


app = Starlette(
    routes=[
        Route("/ping", ping),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/internal", internal, methods=["GET", "POST"]),
    ]
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")

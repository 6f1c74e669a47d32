"""CaptureMiddleware in a user's Starlette model server: in-process, and behind a real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from watchkeeper.capture.middleware import CaptureMiddleware
from watchkeeper.capture.records import SDK_CSV_CONTENT_TYPES, SDK_JSON_CONTENT_TYPES, CaptureConfig
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.storage import LocalObjectStore

with warnings.catch_warnings():  # Starlette would have its TestClient run on httpx2, which is not installed
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

WEIGHTS = np.array([0.5, -0.25, 1.0])
CAPTURE = "s3://bucket/capture"
CSV = {"Content-Type": "text/csv"}


async def invocations(request: Request) -> Response:
    """A small linear model with the SageMaker container contract, and a few ways to fail."""
    body = await request.body()
    if body == b"fail":
        return PlainTextResponse("model error", status_code=500)
    if body == b"bad":
        return PlainTextResponse("bad input", status_code=400)
    if body == b"raise":
        raise RuntimeError("model crashed")
    if request.headers.get("x-stream"):
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"{i}\n".encode()
                await asyncio.sleep(0.3)

        return StreamingResponse(chunks(), media_type="text/csv")
    if request.headers.get("content-type", "").startswith("application/json"):
        rows = np.array(orjson.loads(body)["instances"], dtype=float)
        return JSONResponse({"predictions": (rows @ WEIGHTS).tolist()})
    rows = np.array([[float(v) for v in r.split(",")] for r in body.decode().splitlines()])
    return PlainTextResponse("\n".join(f"{p:.4f}" for p in rows @ WEIGHTS), media_type="text/csv")


async def ping(request: Request) -> Response:
    return Response(status_code=200)


def make_app(writer: CaptureWriter, percentage: float = 100, max_body_bytes: int = 1 << 20) -> Starlette:
    config = CaptureConfig(
        CAPTURE,
        sampling_percentage=percentage,
        csv_content_types=SDK_CSV_CONTENT_TYPES,
        json_content_types=SDK_JSON_CONTENT_TYPES,
    )
    return Starlette(
        routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)],
        middleware=[
            Middleware(
                CaptureMiddleware,
                writer=writer,
                config=config,
                endpoint_name="churn",
                max_body_bytes=max_body_bytes,
            )
        ],
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "s3")


@pytest.fixture
def writer(store: LocalObjectStore) -> Iterator[CaptureWriter]:
    w = CaptureWriter(store, flush_interval=3600)
    yield w
    w.close()


def records(store: LocalObjectStore, writer: CaptureWriter) -> list[dict]:
    writer.flush()
    out = []
    for info in store.list(f"{CAPTURE}/churn/AllTraffic/"):
        out += [orjson.loads(line) for line in store.get_bytes(info.uri).splitlines()]
    return out


def test_csv_invocation_is_captured(store: LocalObjectStore, writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer))
    response = client.post(
        "/invocations",
        content=b"1,2,3\n4,5,6",
        headers={"Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": "req-1"},
    )
    assert response.status_code == 200
    assert response.text == "3.0000\n6.7500"
    (record,) = records(store, writer)
    assert record["captureData"] == {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3\n4,5,6",
                          "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                           "data": "3.0000\n6.7500", "encoding": "CSV"},
    }
    assert record["eventMetadata"]["inferenceId"] == "req-1"
    assert record["eventVersion"] == "0"


def test_json_invocation_is_captured(store: LocalObjectStore, writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer))
    body = orjson.dumps({"instances": [[1, 0, 0], [0, 0, 2]]})
    response = client.post("/invocations", content=body, headers={"Content-Type": "application/json"})
    assert response.json() == {"predictions": [0.5, 2.0]}
    (record,) = records(store, writer)
    assert record["captureData"]["endpointInput"]["data"] == body.decode()
    assert record["captureData"]["endpointInput"]["encoding"] == "JSON"
    assert orjson.loads(record["captureData"]["endpointOutput"]["data"]) == {"predictions": [0.5, 2.0]}
    assert "inferenceId" not in record["eventMetadata"]


def test_other_paths_and_methods_are_not_captured(store: LocalObjectStore, writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer))
    assert client.get("/ping").status_code == 200
    assert client.get("/invocations").status_code == 405
    assert records(store, writer) == []


@pytest.mark.parametrize("body", [b"fail", b"bad", b"raise"])
def test_failed_invocations_are_not_captured(store, writer, body: bytes) -> None:
    client = TestClient(make_app(writer), raise_server_exceptions=False)
    response = client.post("/invocations", content=body, headers=CSV)
    assert response.status_code in (400, 500)
    assert client.post("/invocations", content=b"1,1,1", headers=CSV).status_code == 200
    assert [r["captureData"]["endpointInput"]["data"] for r in records(store, writer)] == ["1,1,1"]


def test_exceptions_still_reach_the_server(writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer))
    with pytest.raises(RuntimeError, match="model crashed"):
        client.post("/invocations", content=b"raise")


def test_streamed_request_body_is_captured_whole(store: LocalObjectStore, writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer))

    def parts() -> Iterator[bytes]:
        yield b"1,2,3\n"
        yield b"4,5,6"

    response = client.post("/invocations", content=parts(), headers=CSV)
    assert response.status_code == 200
    (record,) = records(store, writer)
    assert record["captureData"]["endpointInput"]["data"] == "1,2,3\n4,5,6"


def test_oversized_bodies_are_served_but_not_captured(store: LocalObjectStore, writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer, max_body_bytes=100))
    big = "\n".join(["1,2,3"] * 50).encode()
    response = client.post("/invocations", content=big, headers=CSV)
    assert response.status_code == 200 and len(response.text.splitlines()) == 50
    assert records(store, writer) == []


def test_sampling_zero_passes_everything_through(store: LocalObjectStore, writer: CaptureWriter) -> None:
    client = TestClient(make_app(writer, percentage=0))
    for _ in range(20):
        assert client.post("/invocations", content=b"1,2,3", headers=CSV).text == "3.0000"
    assert records(store, writer) == []


def test_sampling_rate(store: LocalObjectStore, writer: CaptureWriter) -> None:
    """30% of 1000 invocations: sd = sqrt(1000 * 0.3 * 0.7) ≈ 14.5; allow 5 sd."""
    client = TestClient(make_app(writer, percentage=30))
    for _ in range(1000):
        client.post("/invocations", content=b"1,2,3", headers=CSV)
    assert abs(len(records(store, writer)) - 300) < 5 * 14.5


def test_binary_payload_is_base64(store: LocalObjectStore, writer: CaptureWriter) -> None:
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/x-npy")

    config = CaptureConfig(CAPTURE, csv_content_types=SDK_CSV_CONTENT_TYPES)
    app = Starlette(routes=[Route("/invocations", echo, methods=["POST"])])
    client = TestClient(CaptureMiddleware(app, writer=writer, config=config, endpoint_name="churn"))
    payload = bytes(range(256))
    response = client.post("/invocations", content=payload, headers={"Content-Type": "application/x-npy"})
    assert response.content == payload
    (record,) = records(store, writer)
    for side in record["captureData"].values():
        assert side["encoding"] == "BASE64"
        assert base64.b64decode(side["data"]) == payload


def test_lifespan_shutdown_flushes_the_writer(store: LocalObjectStore, writer: CaptureWriter) -> None:
    with TestClient(make_app(writer)) as client:
        client.post("/invocations", content=b"1,2,3", headers=CSV)
        assert list(store.list(f"{CAPTURE}/")) == []
    assert len(list(store.list(f"{CAPTURE}/"))) == 1


class UvicornThread:
    """The app behind a real uvicorn on a loopback port, in this process."""

    def __init__(self, app: Starlette) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def test_real_server_streams_and_captures(store: LocalObjectStore, writer: CaptureWriter) -> None:
    with UvicornThread(make_app(writer)) as server:
        started = time.monotonic()
        arrivals: list[tuple[float, bytes]] = []
        with httpx.stream(
            "POST", f"{server.url}/invocations", content=b"1,2,3",
            headers={"Content-Type": "text/csv", "X-Stream": "1", "X-Amzn-SageMaker-Inference-Id": "s-1"},
        ) as response:
            for chunk in response.iter_raw():
                arrivals.append((time.monotonic() - started, chunk))
        assert b"".join(c for _, c in arrivals) == b"0\n1\n2\n"
        # Chunks leave the model 0.3 s apart; held back, they would all arrive together at its end. Relative
        # times hold on a loaded machine, where the first chunk itself can be late.
        assert arrivals[-1][0] - arrivals[0][0] >= 0.4, "the first chunk was held back until the stream ended"
        assert arrivals[-1][0] >= 0.55

        ok = httpx.post(f"{server.url}/invocations", content=b"0,0,1", headers=CSV)
        assert ok.text == "1.0000"
        failed = httpx.post(f"{server.url}/invocations", content=b"raise", headers=CSV)
        assert failed.status_code == 500
    # uvicorn's lifespan shutdown flushed the writer.
    found = [orjson.loads(x) for o in store.list(f"{CAPTURE}/") for x in store.get_bytes(o.uri).splitlines()]
    assert sorted(r["captureData"]["endpointOutput"]["data"] for r in found) == ["0\n1\n2\n", "1.0000"]
    streamed = next(r for r in found if r["eventMetadata"].get("inferenceId") == "s-1")
    assert streamed["captureData"]["endpointInput"]["data"] == "1,2,3"

"""CaptureMiddleware in a FastAPI model server, served by a real uvicorn on loopback, read back as SageMaker
capture files by the data-quality analyzer's reader."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from tests.server_process import free_port
from watchkeeper.capture.middleware import CaptureMiddleware
from watchkeeper.capture.reader import CaptureReader
from watchkeeper.capture.records import SDK_CSV_CONTENT_TYPES, SDK_JSON_CONTENT_TYPES, CaptureConfig
from watchkeeper.capture.writer import CaptureWriter
from watchkeeper.storage import LocalObjectStore

CAPTURE = "s3://bucket/capture"


def build_app(writer: CaptureWriter) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> PlainTextResponse:
        return PlainTextResponse("")

    @app.post("/invocations")
    async def invocations(request: Request) -> PlainTextResponse:
        body = (await request.body()).decode()
        if body == "fail":
            return PlainTextResponse("model error", status_code=500)
        total = sum(float(v) for v in body.split(","))
        return PlainTextResponse(f"{total:.1f}", media_type="text/csv")

    config = CaptureConfig(CAPTURE, csv_content_types=SDK_CSV_CONTENT_TYPES, json_content_types=SDK_JSON_CONTENT_TYPES)
    app.add_middleware(CaptureMiddleware, writer=writer, config=config, endpoint_name="fastapi-model")
    return app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, CaptureWriter, LocalObjectStore]]:
    store = LocalObjectStore(tmp_path / "s3")
    writer = CaptureWriter(store, flush_interval=0.2)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(writer), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url, writer, store
    server.should_exit = True
    thread.join(timeout=10)
    writer.close()


def test_fastapi_app_is_captured_in_sagemaker_format(served: tuple[str, CaptureWriter, LocalObjectStore]) -> None:
    url, writer, store = served
    with httpx.Client(base_url=url) as client:
        answers = [
            client.post("/invocations", content=f"{i},2,3", headers={"Content-Type": "text/csv"}) for i in range(5)
        ]
        failed = client.post("/invocations", content="fail", headers={"Content-Type": "text/csv"})
    assert [a.text for a in answers] == [f"{i + 5:.1f}" for i in range(5)]
    assert failed.status_code == 500
    writer.flush()
    files = [store.root / info.uri.removeprefix("s3://") for info in store.list(f"{CAPTURE}/fastapi-model/AllTraffic/")]
    assert files
    lines = [line for f in files for line in f.read_text().splitlines()]
    assert len(lines) == 5  # the failed invocation is not captured
    assert (
        '"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"0,2,3","encoding":"CSV"}' in lines[0]
    )
    # What the data-quality analyzer sees: output column first, then the three inputs.
    (batch,) = CaptureReader().batches(f.read_bytes() for f in files)
    assert batch.frame.shape == (5, 4) and batch.bad_rows == 0
    assert batch.frame.row(0) == ("5.0", "0", "2", "3")

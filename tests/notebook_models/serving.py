"""Run a notebook model server on a free loopback port in a thread, for tests: `with start_model_server(...)`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from tests.notebook_models.app import create_app
from tests.notebook_models.models import Container


@contextmanager
def start_model_server(model: str | Container, batch: bool = False, timeout: float = 30.0) -> Iterator[str]:
    """Serve `model` ("linear-learner" or "xgboost") until the block ends; yields its base URL.

    The socket is bound here, before the server starts, so no other process can take the port in between.
    In a pytest fixture: `with start_model_server("xgboost") as url: yield url`."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(model, batch), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"model-server-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, thread, timeout)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _wait_until_up(url: str, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError(f"the model server at {url} stopped while starting")
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"the model server at {url} did not answer /ping within {timeout}s")

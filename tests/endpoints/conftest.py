"""A Watchkeeper server in front of the session's real model server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Signed with real keys: the data plane runs behind the SigV4 edge as users run it.
    keys = {"ml-team": ("AKIAENDPOINTS00001", "endpoint-secret", "123456789012")}
    process = ServerProcess(tmp_path_factory.mktemp("endpoints"), env=FAST_ENV, keys=keys).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sm(server: ServerProcess) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def runtime(server: ServerProcess) -> Any:
    return server.client("sagemaker-runtime")


@pytest.fixture
def name() -> str:
    return f"ep-{uuid.uuid4().hex[:10]}"

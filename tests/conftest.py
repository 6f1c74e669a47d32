"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.postgres_server import PostgresCluster
from tests.server_process import free_port


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: WATCHKEEPER_TEST_POSTGRES_URL, or a throwaway cluster from Debian's package."""
    if url := os.environ.get("WATCHKEEPER_TEST_POSTGRES_URL"):
        yield url
        return
    cluster = PostgresCluster()
    if not cluster.available:
        pytest.skip(
            "PostgreSQL is not installed (apt-get install postgresql; .ci/run does) and "
            "WATCHKEEPER_TEST_POSTGRES_URL is not set"
        )
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def model_url() -> Iterator[str]:
    """The real model server of tests/model_server.py on loopback."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.model_server", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)

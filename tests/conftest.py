"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresCluster


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

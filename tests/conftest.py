"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy

from tests.postgres_server import PostgresCluster
from tests.server_process import free_port

# `make test` runs the suite on a pytest-xdist worker per core (`-n auto --dist loadfile`; docs/architecture.md,
# "Testing"). A worker runs a whole module (its module-scoped servers start once) or, for these packages, a whole
# package: their fixtures are package-scoped (web, s3api) or a session fixture only they use is costly (dask).
WHOLE_PACKAGES = ("tests/web/", "tests/s3api/", "tests/dask/")


def work_unit(nodeid: str) -> str:
    """What one worker runs whole: the test's module, or its package if that is one of WHOLE_PACKAGES."""
    path = nodeid.split("::", 1)[0]
    return next((package for package in WHOLE_PACKAGES if path.startswith(package)), path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Work units with a `slow` test first, the rest in collection order: the workers take units in this order,
    so a long one never starts last and ends the run alone."""
    slow = {work_unit(item.nodeid) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: work_unit(item.nodeid) not in slow)  # a stable sort


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadfile` by work_unit, in collection order (not xdist's default of most tests first)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False
    return WorkUnitScheduling(config, log)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: WATCHKEEPER_TEST_POSTGRES_URL, or a throwaway cluster from Debian's package (one per
    xdist worker). On a server of yours, each xdist worker gets a new database of its own beside the URL's."""
    if url := os.environ.get("WATCHKEEPER_TEST_POSTGRES_URL"):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        yield worker_database(url, worker) if worker else url
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


def worker_database(url: str, worker: str) -> str:
    """`<database>_<worker>` on the server of `url`, created afresh (a previous run's is dropped first)."""
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{sqlalchemy.make_url(url).database}_{worker}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return sqlalchemy.make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def model_url() -> Iterator[str]:
    """The real model server of tests/model_server.py on loopback."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.model_server", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a safety net, as ServerProcess.start's
    while True:
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the model server of tests/model_server.py did not start (exit code {process.poll()})")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)

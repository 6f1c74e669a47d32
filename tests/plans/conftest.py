"""In-process services on a FakeClock, an endpoint that captures, and a job runner whose executor is in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.in_process import CTX, capturing_services, t
from watchkeeper.clock import FakeClock
from watchkeeper.services.container import Services

__all__ = ["CTX", "t"]  # tests/plans import them from here


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(t("2026-03-01T01:00:05"))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    built = capturing_services(tmp_path / "data", clock, ("Input", "Output"))
    yield built
    built.close()

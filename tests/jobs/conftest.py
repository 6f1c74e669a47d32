"""Fixtures of the sandbox tests: both sandbox modes, and a traversable folder for their servers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.jobs.sandbox import bwrap_problem

IS_ROOT = os.geteuid() == 0
BWRAP = bwrap_problem(shutil.which("bwrap"), IS_ROOT)  # why bubblewrap cannot run here, or None


@pytest.fixture(scope="module", params=["bwrap", "none"])
def mode(request: pytest.FixtureRequest) -> str:
    if request.param == "bwrap" and BWRAP:
        pytest.skip(f"bubblewrap cannot run here: {BWRAP}")
    return request.param


@pytest.fixture(scope="module")
def base_dir() -> Iterator[Path]:
    # pytest's tmp folders are 0700: without bwrap, a dropped uid could not even reach its job folder.
    folder = Path(tempfile.mkdtemp(prefix="wk-jobs-", dir="/tmp"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)

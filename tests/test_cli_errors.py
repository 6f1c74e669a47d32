"""A refused request on the command line is one clear line and exit 1, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_run_of_an_unknown_schedule_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "watchkeeper", "run", "no-such-schedule", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("watchkeeper run: ") and "no-such-schedule" in done.stderr, done.stderr

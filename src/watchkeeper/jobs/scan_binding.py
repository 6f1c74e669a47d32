"""The compiled capture pass for a built-in analyzer job (`capture/scan_library.py`).

A job never builds the library, nor loads one from a folder it could write to (its code runs as the job user,
and a library left there would run in the next job): the runner copies the server's own build into the job's
config folder (the server's, read-only to the job) and names it in `WATCHKEEPER_SCAN_LIBRARY`. That variable is
the runner's alone: one the request sets is dropped. Without a build the job reads capture by the polars pass.
"""

from __future__ import annotations

import os

from watchkeeper.capture import scan_library
from watchkeeper.jobs.contract import JobRoot

SCAN_LIBRARY_FILE = "/opt/ml/config/watchkeeper-scan.so"
VARIABLE = "WATCHKEEPER_SCAN_LIBRARY"


def bind_scan_library(root: JobRoot, environment: dict[str, str], builtin: bool) -> None:
    """Drop the request's `WATCHKEEPER_SCAN_LIBRARY`; for a built-in analyzer, hand it the server's build."""
    environment.pop(VARIABLE, None)
    if not builtin or os.environ.get("WATCHKEEPER_COMPILED_SCAN", "1") == "0":
        return
    if scan_library.copy_library(root.local(SCAN_LIBRARY_FILE)):
        environment[VARIABLE] = SCAN_LIBRARY_FILE

"""Paths the built-in images take from a job's Environment stay inside the job's `/opt/ml` view.

The analyzer and merge images read and write these paths as the job runs; a value such as
`record_preprocessor_script=/etc/passwd` or `output_path=/opt/ml/../../srv` must fail the job before it
starts, naming the variable, whether or not a sandbox would also have stopped it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping

from watchkeeper.jobs.contract import JobRoot

VIEW = "/opt/ml"
# Every Environment entry that an analyzer of jobs/analyzers/ or jobs/worker.py opens as a file or folder.
PATH_VARIABLES = (
    "dataset_source",
    "output_path",
    "baseline_statistics",
    "baseline_constraints",
    "record_preprocessor_script",
    "post_analytics_processor_script",
    "CLOUDWATCH_METRICS_DIRECTORY",
    "ground_truth_source",
)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def outside_view(environment: Mapping[str, str], root: JobRoot) -> str | None:
    """The FailureReason for the first path variable that escapes `/opt/ml`, or None.

    Checked twice: as the job sees it (absolute, normalised, under /opt/ml) and as the worker will open it
    on the host without bubblewrap (after contract.py's rewriting, still under the job's own opt/ml)."""
    host_view = os.path.normpath(root.local(VIEW))
    for key in PATH_VARIABLES:
        value = environment.get(key)
        if not value:
            continue  # empty means "not given" to the analyzer
        inside = (
            value.startswith("/")
            and _inside(posixpath.normpath(value), VIEW)
            and _inside(os.path.normpath(root.rewrite(value)), host_view)
        )
        if not inside:
            return f"ClientError: Environment {key}={value} lies outside the job's {VIEW} view"
    return None

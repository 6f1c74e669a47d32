"""Built-in path variables stay inside /opt/ml, as the job sees it and as the worker opens it on the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.jobs.confine import outside_view
from watchkeeper.jobs.contract import JobRoot

HOST = JobRoot(Path("/srv/watchkeeper/jobs/j1"))
VIEW = JobRoot(Path("/"))


@pytest.mark.parametrize("root", [HOST, VIEW])
@pytest.mark.parametrize(
    "value",
    [
        "/opt/ml/processing/input/endpoint",
        "/opt/ml/processing/input/../output",
        "/opt/ml",
        "/opt/ml/processing/code/preprocessor.py",
    ],
)
def test_inside(root: JobRoot, value: str) -> None:
    assert outside_view({"dataset_source": value, "record_preprocessor_script": ""}, root) is None


@pytest.mark.parametrize("root", [HOST, VIEW])
@pytest.mark.parametrize(
    "value",
    [
        "/etc/passwd",
        "/opt/ml/../../etc/passwd",
        "/opt/mlx/data",
        "opt/ml/relative",
        "s3://bucket/key",
        "//opt/ml/x",
        "/opt/ml/../opt/ml/../../../../../etc",  # each /opt/ml/ is rewritten on the host: checked after that too
        "/etc/opt/ml/x",
    ],
)
def test_outside(root: JobRoot, value: str) -> None:
    reason = outside_view({"output_path": "/opt/ml/processing/output", "post_analytics_processor_script": value},
                          root)
    assert reason == f"ClientError: Environment post_analytics_processor_script={value} lies outside the job's " \
                     "/opt/ml view"

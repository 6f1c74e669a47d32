"""Objects are read in blocks of whole lines (memory bounded whatever the object's size): with blocks of 1 kB,
every path gives the answers of the whole object, and a failing record is numbered within the whole object."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.transform.test_transform_jobs import csv_text, expected
from watchkeeper.config import Settings
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.transform import execute
from watchkeeper.transform.runner import TransformRunner

CTX = RequestContext("123456789012", "us-east-1")
ROWS = np.column_stack([np.arange(600) % 97, np.arange(600) % 3, (np.arange(600) * 7.3) % 200, np.arange(600) % 5])


@pytest.fixture
def services(tmp_path: Path, model_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setattr(execute, "BLOCK_BYTES", 1000)
    built = Services.build(dataclasses.replace(Settings(), data_dir=tmp_path))
    built.endpoints.create_model(CTX, {"ModelName": "m", "PrimaryContainer": {
        "Image": "x", "Environment": {"WATCHKEEPER_UPSTREAM_URL": model_url}}})
    built.store.put_bytes("s3://blocks/in/rows.csv", csv_text(ROWS).encode())
    yield built
    built.close()


def run(services: Services, name: str, **extra: Any) -> tuple[str, bytes | None, str | None]:
    services.transform_jobs.create(CTX, {
        "TransformJobName": name, "ModelName": "m",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://blocks/in/"}},
                           "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": f"s3://blocks/{name}", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}, **extra})
    runner = TransformRunner(services.transform_jobs, services.store)
    status = runner.run_claimed(services.transform_jobs.claim(runner.owner, 30))
    uri = f"s3://blocks/{name}/rows.csv.out"
    reason = services.transform_jobs.describe(CTX, name).get("FailureReason")
    return status, services.store.get_bytes(uri) if services.store.exists(uri) else None, reason


@pytest.mark.parametrize(("name", "extra"), [
    ("slices", {"BatchStrategy": "MultiRecord", "MaxConcurrentTransforms": 3}),
    ("records", {"BatchStrategy": "SingleRecord", "MaxConcurrentTransforms": 4}),
])
def test_answers_across_blocks(services: Services, name: str, extra: dict[str, Any]) -> None:
    status, out, reason = run(services, name, **extra)
    assert status == "Completed", reason
    assert out is not None and out.decode().splitlines() == expected(ROWS)


def test_columnar_join_across_blocks(services: Services) -> None:
    status, out, reason = run(services, "join", BatchStrategy="MultiRecord", DataProcessing={
        "InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"})
    assert status == "Completed", reason
    ids = [f"{v:g}" for v in ROWS[:, 0]]
    assert out is not None and out.decode().splitlines() == [
        f"{i},{p}" for i, p in zip(ids, expected(ROWS[:, 1:]), strict=True)]


def test_a_failing_record_is_numbered_in_the_whole_object(services: Services) -> None:
    services.store.put_bytes("s3://blocks/in/rows.csv", (csv_text(ROWS[:500]) + "fail\n").encode())
    status, out, reason = run(services, "numbered", BatchStrategy="SingleRecord",
                              ModelClientConfig={"InvocationsMaxRetries": 0})
    assert status == "Failed" and out is None
    assert reason is not None and "(from record 501)" in reason

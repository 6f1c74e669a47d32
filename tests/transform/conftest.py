"""A real server (the embedded object store under its data folder) and helpers the transform tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess
from tests.waiting import poll

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
TERMINAL = ("Completed", "Failed", "Stopped")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("transform"), env=FAST_ENV).start()
    yield process
    process.stop()


def put(server: ServerProcess, uri: str, data: str | bytes) -> None:
    path = server.data_dir / "s3" / uri.removeprefix("s3://")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def get(server: ServerProcess, uri: str) -> bytes:
    return (server.data_dir / "s3" / uri.removeprefix("s3://")).read_bytes()


def objects(server: ServerProcess, uri: str) -> list[str]:
    root = server.data_dir / "s3" / uri.removeprefix("s3://")
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def create_model(sm: Any, name: str, url: str | None) -> None:
    environment = {"WATCHKEEPER_UPSTREAM_URL": url} if url else {}
    sm.create_model(ModelName=name, PrimaryContainer={"Image": "my-registry/model:1", "Environment": environment},
                    ExecutionRoleArn=ROLE)


def request(name: str, model: str, source: str, output: str, **extra: Any) -> dict[str, Any]:
    """A CreateTransformJob request; `extra` overrides top-level members, `ContentType`/`SplitType`/
    `CompressionType` the input's, `Accept`/`AssembleWith` the output's."""
    transform_input: dict[str, Any] = {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
                                       "ContentType": "text/csv"}
    transform_output: dict[str, Any] = {"S3OutputPath": output}
    for key in ("ContentType", "SplitType", "CompressionType", "S3DataType"):
        if key in extra:
            value = extra.pop(key)
            if key == "S3DataType":
                transform_input["DataSource"]["S3DataSource"][key] = value
            else:
                transform_input[key] = value
    for key in ("Accept", "AssembleWith"):
        if key in extra:
            transform_output[key] = extra.pop(key)
    return {"TransformJobName": name, "ModelName": model, "TransformInput": transform_input,
            "TransformOutput": transform_output,
            "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}, **extra}


def wait_for(sm: Any, name: str, timeout: float = 30.0, until: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
    return poll(lambda: sm.describe_transform_job(TransformJobName=name),
                lambda d: d["TransformJobStatus"] in until, timeout=timeout, interval=0.1)


def data_dir(server: ServerProcess) -> Path:
    return server.data_dir

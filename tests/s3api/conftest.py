"""One real `watchkeeper serve` with keys for two accounts; boto3's `s3` client signs as each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server_process import ServerProcess

ALICE = ("AKIAS3ALICE0000001", "alice-s3-secret-0123456789", "111111111111")
BOB = ("AKIAS3BOB000000002", "bob-s3-secret-9876543210", "222222222222")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"WATCHKEEPER_S3_MAX_OBJECT_MB": "64"}
    process = ServerProcess(tmp_path_factory.mktemp("s3api"), env=env, keys={"alice": ALICE, "bob": BOB}).start()
    yield process
    process.stop()


@pytest.fixture(scope="package")
def s3(server: ServerProcess) -> Any:
    return server.client("s3", keys=ALICE[:2])


@pytest.fixture(scope="package")
def bob_s3(server: ServerProcess) -> Any:
    return server.client("s3", keys=BOB[:2])


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response  # type: ignore[no-any-return]

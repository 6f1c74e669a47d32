"""The real server on loopback with keys for two accounts, driven by the real boto3 `cloudwatch` client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess

ALICE = ("AKIAALICE000000001", "alice-secret-key-0123456789", "111111111111")
BOB = ("AKIABOB00000000002", "bob-secret-key-9876543210", "222222222222")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("cloudwatch"), env=FAST_ENV, keys={"alice": ALICE, "bob": BOB}
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def cw(server: ServerProcess) -> Any:
    return server.client("cloudwatch", keys=ALICE[:2])


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]

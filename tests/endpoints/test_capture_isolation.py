"""Through the real server: an endpoint whose capture destination the store refuses loses only its own
records, says so once in the log, and the other endpoint's capture is complete."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.endpoint_helpers import capture_config, deploy, read_capture
from tests.server_process import ServerProcess


def test_a_poisoned_capture_destination_stays_with_its_endpoint(
    sm: Any, runtime: Any, server: ServerProcess, model_url: str
) -> None:
    healthy, poisoned = f"ok-{uuid.uuid4().hex[:8]}", f"bad-{uuid.uuid4().hex[:8]}"
    # A destination the embedded store can never hold: an object already sits where its folder would be
    # (what an old database with a `..` destination, or a store's refusal, looks like at write time).
    blocker = server.data_dir / "s3" / "cap" / f"blocked-{poisoned}"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"not a folder")
    deploy(sm, healthy, model_url, capture=capture_config("s3://cap/isolation"))
    deploy(sm, poisoned, model_url, capture=capture_config(f"s3://cap/blocked-{poisoned}"))
    for i in range(60):
        for name in (poisoned, poisoned, healthy):
            answer = runtime.invoke_endpoint(EndpointName=name, Body=f"{i},1,2,3".encode(), ContentType="text/csv",
                                             InferenceId=f"{name}-{i}")
            assert answer["Body"].read()
    records = read_capture(server.data_dir / "s3" / "cap" / "isolation" / healthy, timeout=10, expected=60)
    assert sorted(r["eventMetadata"]["inferenceId"] for r in records) == sorted(f"{healthy}-{i}" for i in range(60))
    time.sleep(1.0)  # a few more flush intervals of the poisoned endpoint
    log = server.log_path.read_text(errors="replace")
    refused = [line for line in log.splitlines() if poisoned in line and "refused" in line]
    assert len(refused) == 1, refused
    assert "InvalidKey" in refused[0]
    assert not any(healthy in line and "shedding" in line for line in log.splitlines())

"""CaptureWriter: a fault stays with the endpoint where it starts.

Permanent store errors drop the batch (counted, logged once); transient ones are retried with backoff;
every endpoint has its own bounded share of the buffer and only its own records are shed.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

import boto3
import orjson
import pytest
from botocore.config import Config

from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_store
from watchkeeper.capture.records import CaptureConfig
from watchkeeper.capture.shares import SHED_BUFFER_FULL, SHED_SHARE_FULL
from watchkeeper.capture.writer import CaptureWriter, capture_prefix
from watchkeeper.storage import LocalObjectStore, StorageError
from watchkeeper.storage.s3 import S3ObjectStore

HEALTHY = "s3://cap/capture/healthy"
POISONED = "s3://cap/../x/poisoned"  # a DestinationS3Uri the embedded store refuses (InvalidKey)


def line(i: int, size: int = 40) -> bytes:
    return orjson.dumps({"i": f"{i:06d}", "pad": "x" * size}) + b"\n"


def written(store: LocalObjectStore, prefix: str) -> list[bytes]:
    return [r for o in store.list(prefix + "/") for r in store.get_bytes(o.uri).splitlines(keepends=True)]


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class OutageStore(LocalObjectStore):
    """Puts under `failing` prefixes fail as an S3 outage would (transient: a 503), `failures` times each
    (forever with None), then succeed."""

    def __init__(self, root: Path, failing: dict[str, int | None]) -> None:
        super().__init__(root)
        self.failing = dict(failing)
        self.attempts: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def put_bytes(self, uri: str, data: bytes) -> None:
        with self.lock:
            self.attempts.append((time.monotonic(), uri))
            for prefix, left in self.failing.items():
                if uri.startswith(prefix + "/") and (left is None or left > 0):
                    if left is not None:
                        self.failing[prefix] = left - 1
                    raise StorageError(f"put {uri!r} failed: ServiceUnavailable: Please reduce your request rate.")
        super().put_bytes(uri, data)


def test_a_poisoned_endpoint_loses_its_own_records_and_nothing_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One endpoint's destination is refused for good, another's store fails for a while then recovers:
    the healthy endpoint loses nothing, the poisoned one's counts say why, the buffer stays bounded."""
    store = OutageStore(tmp_path / "s3", {HEALTHY: 5})
    share = 200 * 400  # records of about 320 bytes: room for the healthy endpoint's outage of about 0.6 s
    writer = CaptureWriter(store, flush_interval=0.02, max_endpoint_buffer_bytes=share, max_buffer_bytes=4 * share)
    config_ok = CaptureConfig("s3://cap/capture")
    config_bad = CaptureConfig("s3://cap/../x")
    healthy_ok: list[bool] = []
    peak = 0
    with caplog.at_level(logging.INFO, logger="watchkeeper.capture.writer"):
        for i in range(100):
            for j in range(10):  # the poisoned endpoint is ten times as busy
                writer.capture(config_bad, "poisoned", "AllTraffic", input_body=line(i * 10 + j),
                               input_content_type="application/json")
            healthy_ok.append(writer.capture(config_ok, "healthy", "AllTraffic", input_body=line(i),
                                             input_content_type="application/json"))
            peak = max(peak, writer.stats().pending_bytes)
            if i % 10 == 9:  # about a tenth of a share per interval: a healthy pace
                time.sleep(0.03)
        wait_for(lambda: writer.stats().pending_bytes == 0)
        writer.close()
    assert all(healthy_ok), "the healthy endpoint was never refused"
    assert len(written(store, capture_prefix("s3://cap/capture", "healthy", "AllTraffic"))) == 100
    stats = writer.stats()
    assert stats.written == 100
    assert stats.dropped + stats.shed == 1000
    assert stats.dropped > 0
    losses = writer.losses()
    assert set(losses) <= {("s3://cap/../x/poisoned", "dropped", "InvalidKey"),
                           ("s3://cap/../x/poisoned", "shed", SHED_SHARE_FULL)}
    assert losses[("s3://cap/../x/poisoned", "dropped", "InvalidKey")] == stats.dropped
    assert not any(key[0] == "s3://cap/capture/healthy" for key in losses)
    assert peak <= 2 * share and stats.pending_bytes == 0
    refused = [r for r in caplog.records if "refused" in r.getMessage() and "poisoned" in r.getMessage()]
    assert len(refused) == 1, "a permanent error is logged once per endpoint and reason, not per batch"
    assert "InvalidKey" in refused[0].getMessage()
    retrying = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retrying) == 1 and "healthy" in retrying[0].getMessage()


def test_a_sustained_failure_sheds_only_that_endpoints_records(tmp_path: Path) -> None:
    store = OutageStore(tmp_path / "s3", {"s3://cap/down": None})
    share = 20 * len(line(0))
    with CaptureWriter(store, flush_interval=0.02, max_endpoint_buffer_bytes=share) as writer:
        down = [writer.write("s3://cap/down/AllTraffic", line(i), endpoint="s3://cap/down") for i in range(100)]
        assert down == [True] * 20 + [False] * 80
        assert writer.pending_by_endpoint() == {"s3://cap/down": share}
        up = []
        for i in range(100):
            up.append(writer.write("s3://cap/up/AllTraffic", line(i), endpoint="s3://cap/up"))
            if i % 10 == 9:
                wait_for(lambda: "s3://cap/up" not in writer.pending_by_endpoint())
        assert up == [True] * 100
        assert len(written(store, "s3://cap/up")) == 100
        assert writer.losses() == {("s3://cap/down", "shed", SHED_SHARE_FULL): 80}
        assert writer.stats().pending_bytes == share, "the failing endpoint holds its share and no more"
        store.failing.clear()  # the outage ends: what was kept is written, in order
        wait_for(lambda: writer.stats().pending_bytes == 0, timeout=5)
    assert written(store, "s3://cap/down") == [line(i) for i in range(20)]
    assert (writer.stats().shed, writer.stats().dropped) == (80, 0)


def test_many_failing_endpoints_bound_the_whole_buffer_but_not_a_healthy_one(tmp_path: Path) -> None:
    """Past the total bound, only endpoints holding more than an equal part of it shed."""
    store = OutageStore(tmp_path / "s3", {f"s3://cap/down{k}": None for k in range(5)})
    n = len(line(0))
    with CaptureWriter(store, flush_interval=0.02, max_endpoint_buffer_bytes=40 * n,
                       max_buffer_bytes=100 * n) as writer:
        for i in range(60):
            for k in range(5):
                writer.write(f"s3://cap/down{k}/AllTraffic", line(i), endpoint=f"s3://cap/down{k}")
        assert writer.stats().pending_bytes <= 2 * 100 * n
        assert {reason for (_, kind, reason) in writer.losses()} == {SHED_BUFFER_FULL}
        for i in range(50):
            assert writer.write("s3://cap/up/AllTraffic", line(i), endpoint="s3://cap/up")
            if i % 5 == 4:
                wait_for(lambda: "s3://cap/up" not in writer.pending_by_endpoint())
        assert len(written(store, "s3://cap/up")) == 50
        assert writer.stats().pending_bytes <= 2 * 100 * n
        store.failing.clear()


def test_transient_failures_back_off(tmp_path: Path) -> None:
    store = OutageStore(tmp_path / "s3", {"s3://cap/down": None})
    with CaptureWriter(store, flush_interval=0.02) as writer:
        writer.write("s3://cap/down/AllTraffic", line(1))
        time.sleep(1.0)
        attempts = [at for at, _ in store.attempts]
        # Without backoff: about 50 attempts in a second. With it: 0.02, 0.04, 0.08, ... apart.
        assert 3 <= len(attempts) <= 9, len(attempts)
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        assert gaps[-1] > 3 * gaps[0]
        store.failing.clear()
        writer.flush()  # a flush does not wait for the backoff
    assert written(store, "s3://cap/down") == [line(1)]
    assert writer.stats().write_errors == len(attempts)


def test_a_permanent_error_on_flush_drops_and_does_not_raise(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3")
    with CaptureWriter(store, flush_interval=3600) as writer:
        writer.write("s3://cap/../x/ep/AllTraffic", line(1))
        writer.write("s3://cap/ok/ep/AllTraffic", line(2))
        assert writer.flush() == 1
        assert writer.stats().dropped == 1 and writer.stats().pending_bytes == 0
    assert written(store, "s3://cap/ok") == [line(2)]


def test_s3_missing_bucket_is_permanent_and_unreachable_store_is_transient(s3_endpoint: str) -> None:
    store, bucket = s3_store(s3_endpoint)
    with CaptureWriter(store, flush_interval=3600) as writer:
        writer.write("s3://no-such-bucket-here/capture/ep/AllTraffic", line(1), endpoint="s3://no-such-bucket-here")
        writer.write(f"s3://{bucket}/capture/ep/AllTraffic", line(2), endpoint=f"s3://{bucket}")
        assert writer.flush() == 1
    assert writer.losses() == {("s3://no-such-bucket-here", "dropped", "NoSuchBucket"): 1}

    client = boto3.session.Session().client(
        "s3", endpoint_url="http://127.0.0.1:9", region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, s3={"addressing_style": "path"}),
    )
    with pytest.raises(StorageError) as caught:
        S3ObjectStore(client=client).put_bytes("s3://b/k", b"x")
    assert not caught.value.permanent


def test_s3_access_denied_is_permanent_and_503_is_not() -> None:
    from botocore.exceptions import ClientError

    class Client:
        def __init__(self, code: str, status: int) -> None:
            self.code, self.status = code, status

        def put_object(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"},
                               "ResponseMetadata": {"HTTPStatusCode": self.status}}, "PutObject")

    def error(code: str, status: int) -> StorageError:
        with pytest.raises(StorageError) as caught:
            S3ObjectStore(client=Client(code, status)).put_bytes("s3://b/k", b"x")
        return caught.value

    assert error("AccessDenied", 403).permanent
    assert error("InvalidBucketName", 400).permanent
    assert not error("ServiceUnavailable", 503).permanent
    assert not error("SlowDown", 503).permanent
    assert not error("RequestTimeout", 400).permanent

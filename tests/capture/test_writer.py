"""CaptureWriter: layout, batching, rotation by size and hour, flush bounds, threads, failures."""

from __future__ import annotations

import calendar
import re
import threading
import time
from pathlib import Path

import orjson
import pytest

from watchkeeper.capture.hours import hour_object_uri
from watchkeeper.capture.records import SDK_CSV_CONTENT_TYPES, CaptureConfig
from watchkeeper.capture.writer import CaptureFlushError, CaptureWriter, capture_prefix
from watchkeeper.clock import FakeClock
from watchkeeper.storage import LocalObjectStore, StorageError

PREFIX = "s3://bucket/capture/my-endpoint/AllTraffic"
FILE_RE = re.compile(
    r"s3://bucket/capture/my-endpoint/AllTraffic/(\d{4})/(\d\d)/(\d\d)/(\d\d)/"
    r"(\d\d)-(\d\d)-(\d{3})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl"
)


def utc(text: str) -> float:
    """'2022-03-24T00:22:03.016' → epoch seconds."""
    whole, _, frac = text.partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "s3")


def objects(store: LocalObjectStore, prefix: str = PREFIX) -> dict[str, list[bytes]]:
    return {o.uri: store.get_bytes(o.uri).splitlines(keepends=True) for o in store.list(prefix + "/")}


def line(i: int, size: int = 0) -> bytes:
    return orjson.dumps({"i": f"{i:06d}", "pad": "x" * size}) + b"\n"


def test_object_name_is_the_batch_creation_time(store: LocalObjectStore) -> None:
    clock = FakeClock(utc("2022-03-24T00:22:03.016"))
    with CaptureWriter(store, clock=clock, flush_interval=60) as writer:
        writer.write(PREFIX, line(1))
        clock.advance(5)
        writer.write(PREFIX, line(2))
    (uri, lines), = objects(store).items()
    match = FILE_RE.fullmatch(uri)
    assert match, uri
    assert match.groups() == ("2022", "03", "24", "00", "22", "03", "016")
    assert lines == [line(1), line(2)]


def test_hour_object_uri_millisecond_edges() -> None:
    assert "/2022/03/24/00/22-03-999-" in hour_object_uri("s3://b/p", utc("2022-03-24T00:22:03.9999"))
    assert "/2021/12/31/23/59-59-000-" in hour_object_uri("s3://b/p/", utc("2021-12-31T23:59:59"))
    assert hour_object_uri("s3://b/p/", 0).startswith("s3://b/p/1970/01/01/00/00-00-000-")
    assert capture_prefix("s3://b/dest/", "ep", "AllTraffic") == "s3://b/dest/ep/AllTraffic"


def test_rotation_by_hour(store: LocalObjectStore) -> None:
    clock = FakeClock(utc("2022-03-24T00:59:59.500"))
    with CaptureWriter(store, clock=clock, flush_interval=3600) as writer:
        writer.write(PREFIX, line(1))
        writer.write(PREFIX, line(2))
        clock.advance(1)  # 01:00:00.500
        writer.write(PREFIX, line(3))
        clock.advance(3600 * 24)  # next day, same hour
        writer.write(PREFIX, line(4))
    found = objects(store)
    assert [FILE_RE.fullmatch(u).group(4) for u in found] == ["00", "01", "01"]  # type: ignore[union-attr]
    assert list(found.values()) == [[line(1), line(2)], [line(3)], [line(4)]]
    assert [FILE_RE.fullmatch(u).group(3) for u in found] == ["24", "24", "25"]  # type: ignore[union-attr]


def test_rotation_by_size(store: LocalObjectStore) -> None:
    clock = FakeClock()
    records = [line(i, 80) for i in range(50)]
    limit = 10 * len(records[0])
    with CaptureWriter(store, clock=clock, flush_interval=3600, max_object_bytes=limit) as writer:
        for r in records:
            writer.write(PREFIX, r)
            clock.advance(0.002)  # so object names sort in creation order
    found = objects(store)
    assert all(sum(map(len, lines)) <= limit for lines in found.values())
    assert len(found) == 5
    assert [r for lines in found.values() for r in lines] == records


def test_a_record_larger_than_an_object_gets_its_own(store: LocalObjectStore) -> None:
    clock = FakeClock()
    with CaptureWriter(store, clock=clock, flush_interval=3600, max_object_bytes=100) as writer:
        writer.write(PREFIX, line(1))
        clock.advance(0.01)
        writer.write(PREFIX, line(2, 500))
        clock.advance(0.01)
        writer.write(PREFIX, line(3))
    assert list(objects(store).values()) == [[line(1)], [line(2, 500)], [line(3)]]


def test_close_flushes_everything(store: LocalObjectStore) -> None:
    writer = CaptureWriter(store, flush_interval=3600)
    for i in range(1000):
        assert writer.write(PREFIX, line(i))
    assert objects(store) == {}
    writer.close()
    written = sorted(r for lines in objects(store).values() for r in lines)
    assert written == sorted(line(i) for i in range(1000))
    stats = writer.stats()
    assert (stats.accepted, stats.written, stats.dropped, stats.pending_bytes) == (1000, 1000, 0, 0)
    assert not writer.write(PREFIX, line(1)), "a closed writer takes nothing"
    assert (writer.stats().shed, writer.stats().dropped) == (1, 0)
    assert writer.losses() == {(PREFIX, "shed", "writer closed"): 1}
    writer.close()  # twice is fine


def test_each_prefix_gets_its_own_objects(store: LocalObjectStore) -> None:
    with CaptureWriter(store) as writer:
        writer.write("s3://bucket/capture/ep-a/AllTraffic", line(1))
        writer.write("s3://bucket/capture/ep-a/Shadow", line(2))
        writer.write("s3://bucket/capture/ep-b/AllTraffic", line(3))
    found = objects(store, "s3://bucket/capture")
    assert [u.split("/")[4:6] for u in found] == [
        ["ep-a", "AllTraffic"],
        ["ep-a", "Shadow"],
        ["ep-b", "AllTraffic"],
    ]


def test_written_within_the_flush_interval(store: LocalObjectStore) -> None:
    interval = 0.2
    with CaptureWriter(store, flush_interval=interval) as writer:
        for round_ in range(3):
            started = time.monotonic()
            writer.write(PREFIX, line(round_))
            while not any(line(round_) in lines for lines in objects(store).values()):
                assert time.monotonic() - started < interval + 0.5, "not written within the interval"
                time.sleep(0.01)
            elapsed = time.monotonic() - started
            assert interval * 0.9 <= elapsed < interval + 0.5
    assert len(objects(store)) == 3


def test_acknowledged_records_survive_a_crash(store: LocalObjectStore, tmp_path: Path) -> None:
    """Records accepted longer ago than the flush bound are on disk even if the process dies now:
    we read the folder with a fresh store while the writer still runs, then never close it properly."""
    interval = 0.1
    writer = CaptureWriter(store, flush_interval=interval)
    acknowledged: list[tuple[float, bytes]] = []
    deadline = time.monotonic() + 1.0
    i = 0
    while time.monotonic() < deadline:
        writer.write(PREFIX, line(i))
        acknowledged.append((time.monotonic(), line(i)))
        i += 1
        time.sleep(0.001)
    crash_time = time.monotonic()
    on_disk = {r for lines in objects(LocalObjectStore(tmp_path / "s3")).values() for r in lines}
    bound = interval + 0.25  # the interval plus scheduling slack for one local write
    old_enough = [r for at, r in acknowledged if crash_time - at > bound]
    assert len(old_enough) > 100
    assert all(r in on_disk for r in old_enough)
    writer.close()


def test_no_record_is_lost_under_concurrent_writers(store: LocalObjectStore) -> None:
    threads, per_thread = 8, 2500
    writer = CaptureWriter(store, flush_interval=0.05, max_object_bytes=8192)
    barrier = threading.Barrier(threads)

    def produce(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            prefix = PREFIX if i % 2 else PREFIX.replace("AllTraffic", "B")
            assert writer.write(prefix, line(t * per_thread + i))

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writer.close()
    written = [r for lines in objects(store, "s3://bucket/capture/my-endpoint").values() for r in lines]
    assert len(written) == threads * per_thread
    assert set(written) == {line(i) for i in range(threads * per_thread)}
    stats = writer.stats()
    assert stats.accepted == stats.written == threads * per_thread
    assert stats.objects > 2  # rotation by size happened


class FlakyStore(LocalObjectStore):
    """Fails the first `failures` puts (as an S3 outage would)."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures
        self.attempts: list[str] = []

    def put_bytes(self, uri: str, data: bytes) -> None:
        self.attempts.append(uri)
        if self.failures > 0:
            self.failures -= 1
            raise StorageError(f"put {uri!r} failed: ServiceUnavailable")
        super().put_bytes(uri, data)


def test_failed_writes_are_retried_under_the_same_name(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "s3", failures=3)
    with CaptureWriter(store, flush_interval=0.05) as writer:
        for i in range(10):
            writer.write(PREFIX, line(i))
        deadline = time.monotonic() + 5
        while writer.stats().written < 10:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert [r for lines in objects(store).values() for r in lines] == [line(i) for i in range(10)]
    assert len(set(store.attempts)) == 1 and len(store.attempts) == 4
    assert writer.stats().write_errors == 3


def test_flush_reports_failure_and_keeps_the_records(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "s3", failures=1)
    with CaptureWriter(store, flush_interval=3600) as writer:
        writer.write(PREFIX, line(1))
        with pytest.raises(StorageError, match="ServiceUnavailable"):
            writer.flush()
        assert writer.stats().pending_bytes == len(line(1))
        assert writer.flush() == 1
    assert list(objects(store).values()) == [[line(1)]]


def test_close_says_how_many_records_were_lost(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "s3", failures=10**9)
    writer = CaptureWriter(store, flush_interval=3600)
    for i in range(7):
        writer.write(PREFIX, line(i))
    with pytest.raises(CaptureFlushError, match="7 capture records could not be written"):
        writer.close()


def test_buffer_limit_drops_new_records_instead_of_growing(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "s3", failures=10**9)
    writer = CaptureWriter(store, flush_interval=3600, max_buffer_bytes=10 * len(line(0)))
    accepted = [writer.write(PREFIX, line(i)) for i in range(15)]
    assert accepted == [True] * 10 + [False] * 5
    assert writer.stats().shed == 5
    store.failures = 0
    writer.close()
    assert len([r for lines in objects(store).values() for r in lines]) == 10


def test_capture_builds_the_record(store: LocalObjectStore) -> None:
    clock = FakeClock(utc("2024-05-01T13:05:07.250"))
    config = CaptureConfig("s3://bucket/capture", csv_content_types=SDK_CSV_CONTENT_TYPES)
    with CaptureWriter(store, clock=clock) as writer:
        assert writer.capture(
            config, "my-endpoint", "AllTraffic", input_body=b"1,2", input_content_type="text/csv",
            output_body=b"0.5", output_content_type="text/csv", inference_id="abc",
        )
    (uri, lines), = objects(store).items()
    assert FILE_RE.fullmatch(uri).groups()[:7] == ("2024", "05", "01", "13", "05", "07", "250")  # type: ignore[union-attr]
    record = orjson.loads(lines[0])
    assert record["captureData"]["endpointInput"]["data"] == "1,2"
    assert record["eventMetadata"]["inferenceId"] == "abc"
    assert record["eventMetadata"]["inferenceTime"] == "2024-05-01T13:05:07Z"


def test_sample_uses_the_writers_draw(store: LocalObjectStore) -> None:
    draws = iter([0.05, 0.5, 0.19, 0.2])
    config = CaptureConfig("s3://bucket/capture", sampling_percentage=20)
    with CaptureWriter(store, draw=lambda: next(draws)) as writer:
        assert [writer.sample(config) for _ in range(4)] == [True, False, True, False]


def test_bad_settings_are_refused(store: LocalObjectStore) -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        CaptureWriter(store, flush_interval=0)
    with pytest.raises(ValueError, match="max_object_bytes"):
        CaptureWriter(store, max_object_bytes=0)

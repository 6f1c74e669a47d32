"""`CaptureWriter`: batches capture records in memory and writes them to object storage off the request path.

How records become objects (S3 objects cannot be appended to):

- Records are grouped per capture prefix `<DestinationS3Uri>/<endpoint>/<variant>`. The first record of a
  group opens a *batch*; the batch's object URI is fixed then, from its creation time on the writer's clock:
  `<prefix>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid4>.jsonl` (UTC), as SageMaker names capture files.
- A batch is written as one new object (one PUT / one atomic rename) `flush_interval` seconds after it was
  opened, so every accepted record is in storage within `flush_interval` plus the time of one write: that is
  the most a crash can lose (default 1 s). `close()` and `flush()` write every batch at once.
- A batch is also closed early (rotation) when the next record would take it past `max_object_bytes`, or
  when the clock has entered another UTC hour: a record is always in the hour folder of its arrival.
- Writes run on a background thread (and a few worker threads for parallel PUTs); `write()` only appends to
  a list under a lock. A failed write is retried, same URI, after the next interval; while storage is
  down, records are kept up to `max_buffer_bytes`, beyond which new ones are dropped and counted.

Sampling is the caller's decision, made before the invocation's bodies are kept:
`if writer.sample(config): ... writer.capture(config, ...)`. `sample()` applies `EnableCapture` and
`InitialSamplingPercentage`; `capture()` and `write()` record what they are given.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from watchkeeper.capture.records import Body, CaptureConfig, encode_record
from watchkeeper.clock import Clock, SystemClock
from watchkeeper.storage.base import ObjectStore, StorageError, join_uri

logger = logging.getLogger(__name__)

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_BUFFER_BYTES = 256 * 1024 * 1024


def capture_prefix(destination_s3_uri: str, endpoint_name: str, variant_name: str) -> str:
    """`<DestinationS3Uri>/<EndpointName>/<VariantName>` (spec §3.2)."""
    return join_uri(destination_s3_uri, endpoint_name, variant_name)


def hour_object_uri(prefix: str, epoch_seconds: float) -> str:
    """`<prefix>/yyyy/mm/dd/hh/<MM>-<SS>-<mmm>-<uuid4>.jsonl` for an object created at `epoch_seconds`."""
    total_ms = int(epoch_seconds * 1000)
    t = time.gmtime(total_ms // 1000)
    return (
        f"{prefix.rstrip('/')}/{t.tm_year:04d}/{t.tm_mon:02d}/{t.tm_mday:02d}/{t.tm_hour:02d}/"
        f"{t.tm_min:02d}-{t.tm_sec:02d}-{total_ms % 1000:03d}-{uuid.uuid4()}.jsonl"
    )


class CaptureFlushError(StorageError):
    """Records the writer accepted could not be written when it was closed."""


@dataclass(frozen=True, slots=True)
class CaptureWriterStats:
    accepted: int  # records taken by write()
    written: int  # records now in storage
    dropped: int  # records refused: buffer full, or writer closed
    objects: int  # objects written
    write_errors: int  # failed object writes (each retried)
    pending_bytes: int  # accepted, not yet written


@dataclass(slots=True, eq=False)
class _Batch:
    uri: str
    hour: int
    deadline: float  # time.monotonic() by which it is written
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


class CaptureWriter:
    """Thread-safe, batched writer of capture records. Use as a context manager or call `close()`."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        clock: Clock | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
        write_workers: int = 4,
        draw: Callable[[], float] = random.random,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval}")
        if max_object_bytes <= 0 or max_buffer_bytes <= 0:
            raise ValueError("max_object_bytes and max_buffer_bytes must be positive")
        self.store = store
        self.clock = clock or SystemClock()
        self.flush_interval = flush_interval
        self.max_object_bytes = max_object_bytes
        self.max_buffer_bytes = max_buffer_bytes
        self._draw = draw
        self._cond = threading.Condition()
        self._io_lock = threading.Lock()  # one flush at a time, so a prefix's objects are written in order
        self._open: dict[str, _Batch] = {}
        self._ready: list[_Batch] = []  # sealed, waiting to be written, oldest first
        self._retry_at = 0.0
        self._closed = False
        self._accepted = self._written = self._dropped = self._objects = self._errors = 0
        self._pending_bytes = 0
        self._last_drop_log = float("-inf")
        self._pool = ThreadPoolExecutor(write_workers, "capture-put") if write_workers > 1 else None
        self._thread = threading.Thread(target=self._run, name="capture-flusher", daemon=True)
        self._thread.start()
        atexit.register(_flush_at_exit, weakref.ref(self))

    # -- accepting records (request path) ------------------------------------------------------------

    def sample(self, config: CaptureConfig) -> bool:
        """Whether to capture an invocation under `config` (EnableCapture and InitialSamplingPercentage),
        drawn from this writer's random source. Callers decide before `capture()`, which does not sample."""
        return config.sample(self._draw)

    def capture(
        self,
        config: CaptureConfig,
        endpoint_name: str,
        variant_name: str,
        *,
        input_body: Body | None = None,
        input_content_type: str | None = None,
        output_body: Body | None = None,
        output_content_type: str | None = None,
        inference_id: str | None = None,
        custom_attributes: str | None = None,
        inference_time: float | None = None,
    ) -> bool:
        """Record one successful invocation (only the sides `config` captures). Does not sample: call
        `sample(config)` first. Returns False if the record was dropped (see `write`)."""
        line = encode_record(
            config,
            inference_time=self.clock.now() if inference_time is None else inference_time,
            input_body=input_body,
            input_content_type=input_content_type,
            output_body=output_body,
            output_content_type=output_content_type,
            inference_id=inference_id,
            custom_attributes=custom_attributes,
        )
        return self.write(capture_prefix(config.destination_s3_uri, endpoint_name, variant_name), line)

    def write(self, prefix_uri: str, line: bytes) -> bool:
        """Queue one encoded record (ending in a newline) for `<prefix_uri>/yyyy/mm/dd/hh/...jsonl`.
        Never blocks on storage. Returns False if the record was dropped (writer closed or buffer full)."""
        n = len(line)
        now = self.clock.now()
        hour = int(now // 3600)
        with self._cond:
            if self._closed or self._pending_bytes + n > self.max_buffer_bytes:
                self._drop()
                return False
            batch = self._open.get(prefix_uri)
            if batch is not None and (batch.hour != hour or batch.size + n > self.max_object_bytes):
                self._seal(prefix_uri, batch)
                batch = None
            if batch is None:
                batch = _Batch(hour_object_uri(prefix_uri, now), hour, time.monotonic() + self.flush_interval)
                self._open[prefix_uri] = batch
                self._cond.notify()  # the flusher may need to wake up earlier for this deadline
            batch.lines.append(line)
            batch.size += n
            self._pending_bytes += n
            self._accepted += 1
            if batch.size >= self.max_object_bytes:
                self._seal(prefix_uri, batch)
        return True

    def _seal(self, prefix_uri: str, batch: _Batch) -> None:
        del self._open[prefix_uri]
        self._ready.append(batch)
        self._cond.notify()

    def _drop(self) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._last_drop_log >= 10:
            self._last_drop_log = now
            reason = (
                "the writer is closed"
                if self._closed
                else f"{self._pending_bytes} bytes wait for storage (limit {self.max_buffer_bytes})"
            )
            logger.warning("dropping capture records: %s; %d dropped so far", reason, self._dropped)

    # -- writing objects (background) ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    now = time.monotonic()
                    if self._ready and now >= self._retry_at:
                        break
                    wake = min((b.deadline for b in self._open.values()), default=now + 3600.0)
                    if self._ready:
                        wake = min(wake, self._retry_at)
                    if wake <= now:
                        break
                    self._cond.wait(wake - now)
                if self._closed:
                    return
            try:
                self._flush(everything=False)
            except StorageError:
                pass  # logged in _flush; the batches are back in the queue
            except Exception:  # never let the flusher die
                logger.exception("capture flusher failed")

    def _flush(self, *, everything: bool) -> int:
        """Seal due (or all) open batches and write every ready one; returns records written.
        Failed batches go back to the front of the queue, and the first error is raised."""
        with self._io_lock:
            with self._cond:
                now = time.monotonic()
                for prefix, batch in list(self._open.items()):
                    if everything or batch.deadline <= now:
                        self._seal(prefix, batch)
                batches, self._ready = self._ready, []
            if not batches:
                return 0
            if self._pool is not None and len(batches) > 1:
                errors = list(self._pool.map(self._put, batches))
            else:
                errors = [self._put(b) for b in batches]
            failed = [b for b, e in zip(batches, errors, strict=True) if e is not None]
            written = sum(len(b.lines) for b, e in zip(batches, errors, strict=True) if e is None)
            with self._cond:
                self._written += written
                self._objects += len(batches) - len(failed)
                self._pending_bytes -= sum(b.size for b, e in zip(batches, errors, strict=True) if e is None)
                if failed:
                    self._errors += len(failed)
                    self._ready[:0] = failed
                    self._retry_at = time.monotonic() + self.flush_interval
            if failed:
                first = next(e for e in errors if e is not None)
                logger.warning(
                    "could not write %d capture objects (%d records), will retry: %s",
                    len(failed), sum(len(b.lines) for b in failed), first,
                )
                raise first
            return written

    def _put(self, batch: _Batch) -> StorageError | None:
        try:
            self.store.put_bytes(batch.uri, b"".join(batch.lines))
        except StorageError as exc:
            return exc
        except Exception as exc:  # an unexpected store failure must not lose the batch
            return StorageError(f"writing {batch.uri!r} failed: {exc!r}")
        return None

    # -- control -------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything accepted so far, now; returns the number of records written.
        Raises the store's error if some objects could not be written (they stay queued)."""
        return self._flush(everything=True)

    def close(self) -> None:
        """Stop accepting records, write everything, stop the threads. Raises `CaptureFlushError`
        if some records could not be written."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        try:
            self._flush(everything=True)
        except StorageError as exc:
            with self._cond:
                lost = sum(len(b.lines) for b in self._ready)
            raise CaptureFlushError(f"{lost} capture records could not be written on close: {exc}") from exc
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> CaptureWriterStats:
        with self._cond:
            return CaptureWriterStats(
                self._accepted, self._written, self._dropped, self._objects, self._errors, self._pending_bytes
            )

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _flush_at_exit(ref: weakref.ref[CaptureWriter]) -> None:
    writer = ref()
    if writer is None or writer.closed:
        return
    try:
        writer.close()
    except Exception:
        logger.exception("capture records were lost at interpreter exit")

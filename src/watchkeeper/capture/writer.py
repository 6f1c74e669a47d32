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
- Writes run on a background thread that hands each endpoint's batches, in order, to a few worker threads;
  `write()` only appends to a list under a lock.

Each endpoint has its own queue and share of the buffer; a fault (a full share, a store error) stays
with the endpoint where it starts: `capture/shares.py` holds that accounting and its rules.

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
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from watchkeeper.capture.hours import hour_object_uri
from watchkeeper.capture.records import Body, CaptureConfig, encode_record
from watchkeeper.capture.shares import (
    Batch,
    CaptureWriterStats,
    LossLog,
    Share,
    refusal,
)
from watchkeeper.clock import Clock, SystemClock
from watchkeeper.storage.base import ObjectStore, StorageError, join_uri

logger = logging.getLogger(__name__)

DEFAULT_FLUSH_INTERVAL = 1.0
DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_BUFFER_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_ENDPOINT_BUFFER_BYTES = 32 * 1024 * 1024  # WATCHKEEPER_CAPTURE_BUFFER_MB_PER_ENDPOINT
MAX_RETRY_SECONDS = 30.0  # transient failures are retried at most this far apart (or flush_interval)


def capture_prefix(destination_s3_uri: str, endpoint_name: str, variant_name: str) -> str:
    """`<DestinationS3Uri>/<EndpointName>/<VariantName>` (spec §3.2)."""
    return join_uri(destination_s3_uri, endpoint_name, variant_name)


class CaptureFlushError(StorageError):
    """Records the writer accepted could not be written when it was closed."""


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
        max_endpoint_buffer_bytes: int | None = None,
        write_workers: int = 4,
        draw: Callable[[], float] = random.random,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval}")
        if max_endpoint_buffer_bytes is None:
            from watchkeeper.config import Settings

            max_endpoint_buffer_bytes = int(Settings().capture_buffer_mb_per_endpoint * 1024 * 1024)
        if max_object_bytes <= 0 or max_buffer_bytes <= 0 or max_endpoint_buffer_bytes <= 0:
            raise ValueError("max_object_bytes, max_buffer_bytes and max_endpoint_buffer_bytes must be positive")
        self.store = store
        self.clock = clock or SystemClock()
        self.flush_interval = flush_interval
        self.max_object_bytes = max_object_bytes
        self.max_buffer_bytes = max_buffer_bytes
        self.max_endpoint_buffer_bytes = max_endpoint_buffer_bytes
        self.retry_cap = max(MAX_RETRY_SECONDS, flush_interval)
        self._draw = draw
        self._cond = threading.Condition()
        self._open: dict[str, Batch] = {}  # by prefix (endpoint and variant)
        self._shares: dict[str, Share] = {}  # endpoints with records in memory
        self._flushing = 0  # flush() calls under way: the background thread starts nothing new meanwhile
        self._closed = False
        self._accepted = self._written = self._dropped = self._shed = self._objects = self._errors = 0
        self._pending_bytes = 0
        self._losses = LossLog()
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
        `sample(config)` first. Returns False if the record was shed (see `write`)."""
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
        return self.write(
            capture_prefix(config.destination_s3_uri, endpoint_name, variant_name),
            line,
            endpoint=join_uri(config.destination_s3_uri, endpoint_name),
        )

    def write(self, prefix_uri: str, line: bytes, *, endpoint: str | None = None) -> bool:
        """Queue one encoded record (ending in a newline) for `<prefix_uri>/yyyy/mm/dd/hh/...jsonl`.
        `endpoint` names whose buffer share it takes (default: the prefix itself). Never blocks on storage.
        Returns False if the record was shed (writer closed, or the endpoint's share of the buffer full)."""
        n = len(line)
        key = endpoint or prefix_uri
        now = self.clock.now()
        hour = int(now // 3600)
        with self._cond:
            share = self._shares.get(key)
            refused = refusal(share, n, closed=self._closed, pending_bytes=self._pending_bytes,
                              endpoints=len(self._shares), max_endpoint_buffer_bytes=self.max_endpoint_buffer_bytes,
                              max_buffer_bytes=self.max_buffer_bytes)
            if refused is not None:
                self._shed += 1
                self._losses.shed(key, *refused)
                return False
            if share is None:
                share = self._shares[key] = Share(key)
            batch = self._open.get(prefix_uri)
            if batch is not None and (batch.hour != hour or batch.size + n > self.max_object_bytes):
                self._seal(prefix_uri, batch)
                batch = None
            if batch is None:
                deadline = time.monotonic() + self.flush_interval
                batch = Batch(hour_object_uri(prefix_uri, now), hour, deadline, share)
                self._open[prefix_uri] = batch
                share.open += 1
                self._cond.notify()  # the flusher may need to wake up earlier for this deadline
            batch.lines.append(line)
            batch.size += n
            share.pending += n
            self._pending_bytes += n
            self._accepted += 1
            if batch.size >= self.max_object_bytes:
                self._seal(prefix_uri, batch)
        return True

    def _seal(self, prefix_uri: str, batch: Batch) -> None:
        del self._open[prefix_uri]
        batch.share.open -= 1
        batch.share.ready.append(batch)
        self._cond.notify()

    # -- writing objects (background) ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    now = time.monotonic()
                    for prefix, batch in list(self._open.items()):
                        if batch.deadline <= now:
                            self._seal(prefix, batch)
                    due: list[Share] = []
                    wake = now + 3600.0
                    if not self._flushing:
                        for share in self._shares.values():
                            if share.ready and not share.busy:
                                if share.retry_at <= now:
                                    due.append(share)
                                else:
                                    wake = min(wake, share.retry_at)
                    if due:
                        for share in due:
                            share.busy = True
                        break
                    wake = min([wake, *(b.deadline for b in self._open.values())])
                    self._cond.wait(max(wake - now, 0.001))
            for share in due:
                try:
                    if self._pool is not None:
                        self._pool.submit(self._drain_quietly, share)
                    else:
                        self._drain_quietly(share)
                except Exception:  # never let the flusher die
                    logger.exception("capture flusher failed")
                    self._release(share)

    def _drain_quietly(self, share: Share) -> None:
        try:
            self._drain(share)
        except Exception:
            logger.exception("capture writer failed for %s", share.key)

    def _drain(self, share: Share) -> tuple[int, StorageError | None]:
        """Write the endpoint's ready batches in order (the caller set `share.busy`). Stops at the first
        transient failure, which keeps its batch; a permanent one drops it and goes on.
        Returns (records written, the transient error or None)."""
        written = 0
        try:
            while True:
                with self._cond:
                    if not share.ready:
                        return written, None
                    batch = share.ready[0]
                error = self._put(batch)
                records = len(batch.lines)
                with self._cond:
                    if error is None or error.permanent:
                        share.ready.popleft()
                        share.pending -= batch.size
                        self._pending_bytes -= batch.size
                    if error is None:
                        written += records
                        self._written += records
                        self._objects += 1
                        share.failures = 0
                        share.retry_at = 0.0
                        self._losses.recovered(share.key)
                        continue
                    self._errors += 1
                    if error.permanent:
                        self._dropped += records
                        self._losses.dropped(share.key, error, records)
                        continue
                    share.failures += 1
                    delay = min(self.flush_interval * 2 ** min(share.failures - 1, 30), self.retry_cap)
                    share.retry_at = time.monotonic() + delay
                    self._losses.retrying(share.key, batch, self.retry_cap, error)
                    return written, error
        finally:
            self._release(share)

    def _release(self, share: Share) -> None:
        with self._cond:
            share.busy = False
            if (share.pending <= 0 and not share.open and not share.ready
                    and self._shares.get(share.key) is share):
                del self._shares[share.key]
            self._cond.notify_all()

    def _put(self, batch: Batch) -> StorageError | None:
        try:
            self.store.put_bytes(batch.uri, b"".join(batch.lines))
        except StorageError as exc:
            return exc
        except Exception as exc:  # an unexpected store failure must not lose the batch: retried
            return StorageError(f"writing {batch.uri!r} failed: {exc!r}")
        return None

    # -- control -------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything accepted so far, now (ignoring retry backoff); returns the number of records
        written. Batches the store refuses permanently are dropped and counted; if some could not be written
        for a transient reason, they stay queued and the store's error is raised."""
        with self._cond:
            self._flushing += 1
            try:
                for prefix, batch in list(self._open.items()):
                    self._seal(prefix, batch)
                while any(share.busy for share in self._shares.values()):
                    self._cond.wait()
                todo = [share for share in self._shares.values() if share.ready]
                for share in todo:
                    share.busy = True
            finally:
                self._flushing -= 1
                self._cond.notify_all()
        if self._pool is not None and len(todo) > 1:
            results = list(self._pool.map(self._drain, todo))
        else:
            results = [self._drain(share) for share in todo]
        errors = [error for _, error in results if error is not None]
        if errors:
            raise errors[0]
        return sum(written for written, _ in results)

    def close(self) -> None:
        """Stop accepting records, write everything, stop the threads. Raises `CaptureFlushError`
        if some records could not be written (records the store refused permanently were already counted
        and logged as dropped)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        try:
            self.flush()
        except StorageError as exc:
            with self._cond:
                lost = sum(len(b.lines) for share in self._shares.values() for b in share.ready)
            raise CaptureFlushError(f"{lost} capture records could not be written on close: {exc}") from exc
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def dropped(self) -> int:
        """Accepted records the store refused permanently (see `losses()` for where and why)."""
        return self.stats().dropped

    @property
    def shed(self) -> int:
        """Records refused because their endpoint's buffer share was full (or the writer closed)."""
        return self.stats().shed

    def stats(self) -> CaptureWriterStats:
        with self._cond:
            return CaptureWriterStats(
                self._accepted, self._written, self._dropped, self._shed, self._objects, self._errors,
                self._pending_bytes,
            )

    def losses(self) -> dict[tuple[str, str, str], int]:
        """Records lost, by (endpoint, kind, reason): kind "dropped" (the store refused them for good; the
        reason is the error's kind: InvalidKey, NoSuchBucket, AccessDenied, ...) or "shed" (refused by
        `write()`: `shares.SHED_SHARE_FULL`, `SHED_BUFFER_FULL`, `SHED_CLOSED`). The endpoint is
        `<DestinationS3Uri>/<EndpointName>` (or the prefix given to `write()`)."""
        with self._cond:
            return dict(self._losses.counts)

    def pending_by_endpoint(self) -> dict[str, int]:
        """Bytes each endpoint holds in memory, accepted and not yet written."""
        with self._cond:
            return {key: share.pending for key, share in self._shares.items() if share.pending}

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

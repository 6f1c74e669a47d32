"""Per-endpoint accounting of the capture writer (`capture/writer.py`): each endpoint's share of the buffer,
its queue of batches, and what was lost where and why.

A fault stays with the endpoint where it starts (docs/capture.md):

- Every endpoint (`<DestinationS3Uri>/<EndpointName>`) has its own queue and its own share of the buffer,
  `max_endpoint_buffer_bytes` (`WATCHKEEPER_CAPTURE_BUFFER_MB_PER_ENDPOINT`). A record that would take an
  endpoint past its share is *shed*: refused and counted. The whole buffer is bounded too
  (`max_buffer_bytes`): past it, only endpoints holding more than an equal part of it shed, so an endpoint
  whose writes keep up is never refused because of another's (the total stays below twice the bound).
- A *transient* store error (connection, 5xx, timeout) keeps the batch and retries that endpoint, same URI,
  with exponential backoff; other endpoints go on. A *permanent* one (`StorageError.permanent`) drops the
  batch at once, counted with its reason.
- Losses are logged once per endpoint and reason until that endpoint's writes succeed again (`LossLog`).

Nothing here locks: the writer calls all of it under its own lock.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, deque
from dataclasses import dataclass, field

from watchkeeper.storage.base import StorageError

# The writer's logger: losses are reported under `watchkeeper.capture.writer`, where operators look for them.
logger = logging.getLogger("watchkeeper.capture.writer")

# Why records were lost, as counted in `CaptureWriter.losses()` (the store's refusals add their error kind).
SHED_SHARE_FULL = "endpoint buffer share full"
SHED_BUFFER_FULL = "capture buffer full"
SHED_CLOSED = "writer closed"


@dataclass(frozen=True, slots=True)
class CaptureWriterStats:
    accepted: int  # records taken by write()
    written: int  # records now in storage
    dropped: int  # accepted records the store refused permanently (bad key, missing bucket, access denied)
    shed: int  # records refused by write(): the endpoint's buffer share (or the buffer) full, or writer closed
    objects: int  # objects written
    write_errors: int  # failed object writes (transient ones are retried)
    pending_bytes: int  # accepted, not yet written or dropped


@dataclass(slots=True, eq=False)
class Share:
    """One endpoint's part of the writer: its queue of sealed batches, its bytes, its retry state."""

    key: str
    pending: int = 0  # bytes accepted and not yet written or dropped (open, ready or being written)
    open: int = 0  # open batches (one per variant) of this endpoint
    ready: deque[Batch] = field(default_factory=deque)  # sealed, waiting to be written, oldest first
    busy: bool = False  # a thread is writing its batches
    failures: int = 0  # transient failures in a row
    retry_at: float = 0.0  # time.monotonic() before which it is not retried


@dataclass(slots=True, eq=False)
class Batch:
    """Records of one endpoint variant for one object: its URI is fixed when the batch opens."""

    uri: str
    hour: int
    deadline: float  # time.monotonic() by which it is written
    share: Share
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


def refusal(share: Share | None, n: int, *, closed: bool, pending_bytes: int, endpoints: int,
            max_endpoint_buffer_bytes: int, max_buffer_bytes: int) -> tuple[str, str] | None:
    """(reason, detail) if a record of `n` bytes for an endpoint (`share`, None when it holds nothing) must
    be shed, given the whole buffer's `pending_bytes` and the number of `endpoints` holding records."""
    if closed:
        return SHED_CLOSED, "the writer is closed"
    held = share.pending if share is not None else 0
    if held + n > max_endpoint_buffer_bytes:
        return SHED_SHARE_FULL, (
            f"{held} bytes of it wait for storage and its share of the buffer is "
            f"{max_endpoint_buffer_bytes} bytes (WATCHKEEPER_CAPTURE_BUFFER_MB_PER_ENDPOINT)"
        )
    if pending_bytes + n > max_buffer_bytes:
        active = endpoints + (share is None)
        if held + n > max_buffer_bytes // active:
            return SHED_BUFFER_FULL, (
                f"{pending_bytes} bytes of {active} endpoints wait for storage (limit "
                f"{max_buffer_bytes}) and it holds more than an equal part ({held} bytes)"
            )
    return None


def storage_reason(error: StorageError) -> str:
    """A short, stable name for a store error: its class (`InvalidKey`, `NoSuchBucket`), or the S3 error
    code in its message (`AccessDenied`)."""
    if type(error) is not StorageError:
        return type(error).__name__
    match = re.search(r"failed: ([A-Za-z][A-Za-z0-9.]*): ", str(error))
    return match.group(1) if match else "StorageError"


class LossLog:
    """Records lost by (endpoint, "dropped"|"shed", reason), each reason logged once per endpoint until
    that endpoint's writes succeed again."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self._logged: dict[str, set[str]] = {}  # endpoint -> reasons logged since its last successful write

    def first_time(self, key: str, reason: str) -> bool:
        """True the first time `reason` is seen for this endpoint since its last successful write."""
        seen = self._logged.setdefault(key, set())
        if reason in seen:
            return False
        seen.add(reason)
        return True

    def shed(self, key: str, reason: str, detail: str) -> None:
        self.counts[(key, "shed", reason)] += 1
        if self.first_time(key, "shed: " + reason):
            logger.warning(
                "capture for %s: shedding new records: %s. Further records shed for this reason are counted, "
                "not logged, until its writes succeed again.", key, detail,
            )

    def dropped(self, key: str, error: StorageError, records: int) -> None:
        reason = storage_reason(error)
        self.counts[(key, "dropped", reason)] += records
        if self.first_time(key, "dropped: " + reason):
            logger.error(
                "capture for %s: the store refused %d records for good (%s), dropping them: %s. "
                "Further batches refused for this reason are dropped and counted, not logged.",
                key, records, reason, error,
            )

    def retrying(self, key: str, batch: Batch, retry_cap: float, error: StorageError) -> None:
        if self.first_time(key, "retrying"):
            logger.warning(
                "capture for %s: could not write %s (%d records), retrying with backoff (up to every "
                "%.0f s) while its buffer share holds: %s",
                key, batch.uri, len(batch.lines), retry_cap, error,
            )

    def recovered(self, key: str) -> None:
        if self._logged.pop(key, None):
            logger.info("capture for %s: writes succeed again", key)

"""Processing-job logs as CloudWatch Logs shows them: group `/aws/sagemaker/ProcessingJobs`, one stream
`<job>/algo-1-<start epoch>` per job, one event per line of the job's log.

The SDK's `wait(logs=True)` (its default) tails exactly this (spec §13.2). The text is the runner's job log: the
local `DATA_DIR/jobs/<account>/<region>/<job>/job.log` (jobs/contract.job_folder) while it is written, else the copy
uploaded beside the outputs. Lines carry no time of their own, so every event of a job has the job's start time;
readers resume with `startTime` and a count of events to skip at that time, which is what the SDK does.

Tokens are byte offsets into the log (`f/<offset>` reads on from there, `b/<offset>` reads what precedes it), and
a page reads at most PAGE_BYTES of it (CloudWatch's own 1 MB per response): a call never reads the whole log.
A line longer than a page comes back cut into page-sized events.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from watchkeeper.errors import AwsError, ValidationError
from watchkeeper.jobs.contract import job_folder, log_uri
from watchkeeper.services.context import RequestContext
from watchkeeper.services.processing_jobs import ProcessingJobService
from watchkeeper.storage.base import ObjectStore, StorageError

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
HOST = "algo-1"  # one instance per job here (spec §4.2 resourceconfig)
DEFAULT_EVENT_LIMIT = 10_000  # GetLogEvents' own default
PAGE_BYTES = 1024 * 1024  # the most of the log one call reads (GetLogEvents returns at most 1 MB)


class LogResourceNotFound(AwsError):
    code = "ResourceNotFoundException"  # CloudWatch Logs' spelling, unlike SageMaker's ResourceNotFound


class InvalidParameter(AwsError):
    code = "InvalidParameterException"


@dataclass(frozen=True)
class EventPage:
    events: list[dict[str, Any]]
    forward: str
    backward: str


class JobLogService:
    def __init__(self, jobs: ProcessingJobService, store: ObjectStore, jobs_dir: Path) -> None:
        self.jobs = jobs
        self.store = store
        self.jobs_dir = jobs_dir

    def streams(self, ctx: RequestContext, group: str, prefix: str) -> list[dict[str, Any]]:
        """The streams whose name starts with `prefix`; the prefix must name the job (`<job>/`), as the SDK's."""
        check_group(group)
        job = self._job(ctx, prefix.split("/", 1)[0]) if prefix else None
        if job is None or "ProcessingStartTime" not in job:
            return []  # no container has started: no stream yet, as on AWS
        started = millis(job["ProcessingStartTime"])
        name = f"{job['ProcessingJobName']}/{HOST}-{started // 1000}"
        if not name.startswith(prefix):
            return []
        with self._open(ctx, job) as text:
            has_lines = text is not None and b"\n" in text.read(0, PAGE_BYTES)
        last = millis(job.get("ProcessingEndTime", job["LastModifiedTime"]))
        stream = {
            "logStreamName": name,
            "creationTime": started,
            "arn": f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{LOG_GROUP}:log-stream:{name}",
            "storedBytes": 0,  # AWS reports 0 here too (deprecated member)
            "lastIngestionTime": last,
        }
        if has_lines:
            stream |= {"firstEventTimestamp": started, "lastEventTimestamp": started}
        return [stream]

    def events(
        self,
        ctx: RequestContext,
        group: str,
        stream: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        token: str | None = None,
        limit: int | None = None,
        from_head: bool = False,
    ) -> EventPage:
        check_group(group)
        job = self._job(ctx, stream.split("/", 1)[0])
        if job is None or "ProcessingStartTime" not in job:
            raise LogResourceNotFound("The specified log stream does not exist.")
        at = millis(job["ProcessingStartTime"])
        in_window = (start_time is None or at >= start_time) and (end_time is None or at < end_time)
        limit = limit or DEFAULT_EVENT_LIMIT
        backward, offset = parse_token(token) if token else (not from_head, 0)
        lines: list[bytes] = []
        start = end = 0
        with self._open(ctx, job) if in_window else _nothing() as text:
            if text is not None:
                if not token and backward:
                    offset = text.end()
                if backward:
                    lines, start = text.before(offset, limit)
                    end = offset
                else:
                    lines, end = text.after(offset, limit)
                    start = offset
        ingested = millis(job["LastModifiedTime"])
        events = [
            {"timestamp": at, "message": line.decode("utf-8", errors="replace"), "ingestionTime": ingested}
            for line in lines
        ]
        # An exhausted forward token comes back unchanged: that is how readers know they are at the end.
        return EventPage(events, forward=f"f/{end:020d}", backward=f"b/{start:020d}")

    def _job(self, ctx: RequestContext, name: str) -> dict[str, Any] | None:
        try:
            return self.jobs.describe(ctx, name)
        except ValidationError:  # no such job
            return None

    @contextmanager
    def _open(self, ctx: RequestContext, job: dict[str, Any]) -> Iterator[LogText | None]:
        """The job's log: the local file while the job folder is there, else the uploaded copy; None if neither."""
        local = job_folder(self.jobs_dir, ctx.account, ctx.region, job["ProcessingJobName"]) / "job.log"
        try:
            fd = os.open(local, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            uri = self._uploaded(job)
            yield LogText(_StoredBytes(self.store, uri)) if uri else None
            return
        try:
            yield LogText(_FileBytes(fd))
        finally:
            os.close(fd)

    def _uploaded(self, job: dict[str, Any]) -> str | None:
        return log_uri(job)  # where jobs/runner.py uploads it


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


class _Bytes(Protocol):
    def size(self) -> int: ...

    def read(self, start: int, length: int) -> bytes: ...


class _FileBytes:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def read(self, start: int, length: int) -> bytes:
        return os.pread(self.fd, length, start)


class _StoredBytes:
    """The uploaded copy, streamed: a read skips to its start chunk by chunk, never holding more than it returns."""

    def __init__(self, store: ObjectStore, uri: str) -> None:
        self.store = store
        self.uri = uri
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            self._size = 0
            with suppress(StorageError):
                self._size = next((i.size for i in self.store.list(self.uri) if i.uri == self.uri), 0)
        return self._size

    def read(self, start: int, length: int) -> bytes:
        try:
            with self.store.open_read(self.uri) as body:
                while start > 0:
                    skipped = len(body.read(min(start, 1 << 20)))
                    if not skipped:
                        return b""
                    start -= skipped
                return body.read(length)
        except StorageError:
            return b""


class LogText:
    """Whole lines of a log by byte offset, a page at a time. A line still being written (no newline yet)
    is held back: readers resume after the last whole line, so a half line would never be re-sent."""

    def __init__(self, data: _Bytes) -> None:
        self.data = data

    def read(self, start: int, length: int) -> bytes:
        return self.data.read(start, length) if length > 0 else b""

    def end(self) -> int:
        """The offset just past the last whole line."""
        size = self.data.size()
        start = max(0, size - PAGE_BYTES)
        tail = self.read(start, size - start)
        cut = tail.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        return start if len(tail) == PAGE_BYTES else 0

    def after(self, offset: int, limit: int) -> tuple[list[bytes], int]:
        """Up to `limit` lines from `offset` (within one page), and the offset after them."""
        chunk = self.read(offset, PAGE_BYTES)
        cut = chunk.rfind(b"\n")
        if cut < 0:  # no whole line: a line longer than a page comes back cut; a growing last line waits
            return ([chunk], offset + len(chunk)) if len(chunk) == PAGE_BYTES and limit > 0 else ([], offset)
        lines = chunk[:cut].split(b"\n")[:limit]
        return lines, offset + sum(len(line) + 1 for line in lines)

    def before(self, offset: int, limit: int) -> tuple[list[bytes], int]:
        """Up to `limit` whole lines that end at or before `offset` (within one page), and where they start."""
        start = max(0, offset - PAGE_BYTES)
        chunk = self.read(start, offset - start)
        if not chunk or limit <= 0:
            return [], offset
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        else:  # a forged offset in mid-line: only what precedes the line it cuts
            cut = chunk.rfind(b"\n")
            if cut < 0:
                return [], offset
            offset = start + cut + 1
            chunk = chunk[:cut]
        lines = chunk.split(b"\n")
        if start > 0:
            if len(lines) == 1:  # a line longer than a page: its last page-sized part
                return lines, offset - len(lines[0]) - 1
            lines = lines[1:]  # the first may have begun before the page
        lines = lines[-limit:]
        return lines, offset - sum(len(line) + 1 for line in lines)


def check_group(group: str) -> None:
    if group != LOG_GROUP:
        raise LogResourceNotFound("The specified log group does not exist.")


def parse_token(token: str) -> tuple[bool, int]:
    """`f/<n>` reads on from byte n of the log, `b/<n>` reads the lines before it: (backward, n)."""
    kind, _, offset = token.partition("/")
    if kind not in ("f", "b") or not offset.isdigit() or len(offset) > 20:
        raise InvalidParameter("The specified nextToken is invalid.")
    return kind == "b", int(offset)


def millis(value: Any) -> int:
    """Epoch milliseconds from the store's epoch seconds (float) or a datetime."""
    if hasattr(value, "timestamp"):
        value = value.timestamp()
    return int(float(value) * 1000)

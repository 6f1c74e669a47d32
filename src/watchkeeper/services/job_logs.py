"""Processing-job logs as CloudWatch Logs shows them: group `/aws/sagemaker/ProcessingJobs`, one stream
`<job>/algo-1-<start epoch>` per job, one event per line of the job's log.

The SDK's `wait(logs=True)` (its default) tails exactly this (spec §13.2). The text is the runner's job log: the
local `DATA_DIR/jobs/<job>/job.log` while it is written, else the copy uploaded beside the outputs. Lines carry
no time of their own, so every event of a job has the job's start time; readers resume with `startTime` and
a count of events to skip at that time, which is what the SDK does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.errors import AwsError, ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.processing_jobs import ProcessingJobService
from watchkeeper.storage.base import ObjectStore, StorageError, join_uri

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
HOST = "algo-1"  # one instance per job here (spec §4.2 resourceconfig)
DEFAULT_EVENT_LIMIT = 10_000  # GetLogEvents' own default


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
        lines = self._lines(job)
        last = millis(job.get("ProcessingEndTime", job["LastModifiedTime"]))
        stream = {
            "logStreamName": name,
            "creationTime": started,
            "arn": f"arn:aws:logs:{ctx.region}:{ctx.account}:log-group:{LOG_GROUP}:log-stream:{name}",
            "storedBytes": 0,  # AWS reports 0 here too (deprecated member)
            "lastIngestionTime": last,
        }
        if lines:
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
        lines = self._lines(job) if in_window else []
        limit = limit or DEFAULT_EVENT_LIMIT
        if token:
            backward, offset = parse_token(token, len(lines))
            start = max(0, offset - limit) if backward else offset
            end = offset if backward else min(len(lines), start + limit)
        else:
            start = 0 if from_head else max(0, len(lines) - limit)
            end = min(len(lines), start + limit)
        ingested = millis(job["LastModifiedTime"])
        events = [{"timestamp": at, "message": line, "ingestionTime": ingested} for line in lines[start:end]]
        # An exhausted forward token comes back unchanged: that is how readers know they are at the end.
        return EventPage(events, forward=f"f/{end:020d}", backward=f"b/{start:020d}")

    def _job(self, ctx: RequestContext, name: str) -> dict[str, Any] | None:
        try:
            return self.jobs.describe(ctx, name)
        except ValidationError:  # no such job
            return None

    def _lines(self, job: dict[str, Any]) -> list[str]:
        local = self.jobs_dir / job["ProcessingJobName"] / "job.log"
        try:
            text = local.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = self._uploaded(job)
        lines = text.splitlines()
        # A line still being written is held back: readers count lines, so a half line would never be re-sent.
        if lines and not text.endswith("\n"):
            lines.pop()
        return lines

    def _uploaded(self, job: dict[str, Any]) -> str:
        outputs = [o for o in (job.get("ProcessingOutputConfig") or {}).get("Outputs") or [] if "S3Output" in o]
        if not outputs:
            return ""
        # Where jobs/runner.py uploads it.
        uri = join_uri(outputs[0]["S3Output"]["S3Uri"], "logs", f"{job['ProcessingJobName']}.log")
        try:
            return self.store.get_bytes(uri).decode("utf-8", errors="replace")
        except StorageError:
            return ""


def check_group(group: str) -> None:
    if group != LOG_GROUP:
        raise LogResourceNotFound("The specified log group does not exist.")


def parse_token(token: str, size: int) -> tuple[bool, int]:
    """`f/<n>` reads on from line n, `b/<n>` reads the lines before it: (backward, n)."""
    kind, _, offset = token.partition("/")
    if kind not in ("f", "b") or not offset.isdigit():
        raise InvalidParameter("The specified nextToken is invalid.")
    return kind == "b", min(int(offset), size)


def millis(value: Any) -> int:
    """Epoch milliseconds from the store's epoch seconds (float) or a datetime."""
    if hasattr(value, "timestamp"):
        value = value.timestamp()
    return int(float(value) * 1000)

"""Where a request says data lives: container `LocalPath`s and `s3://` URIs, checked once, at create time.

Every API call that stores a path or URI a job or the capture writer will later use is checked here, before
anything is written, so a value that could only fail later (or escape its folder) is a `ValidationException`
naming the member and the value, never a fault in a scheduler tick, a job or the capture writer:

- a `LocalPath` must lie under `/opt/ml/processing/` (AWS's rule), as a normalised absolute path: no '.',
  '..' or empty segments, not the processing folder itself, no control characters;
- an S3 URI must be an `s3://bucket[/key]` URI whose key obeys the object store's key rule
  (`watchkeeper.storage.relative_path_parts`: no '..', '.', empty segments, backslashes or control
  characters), checked whichever store is configured so a configuration valid on one is valid on the other.
  Trailing slashes of a prefix are allowed (they are dropped when keys are joined);
- given the request's account and its open write transaction, every S3 URI's bucket must be unclaimed
  (it is then claimed, atomically with the create) or owned by that account (`services/buckets.py`), so
  one account can neither read nor write another's data through any member.

`RULES` names, per operation, every member checked; tests/api/test_locations.py compares it with botocore's
model so a path-shaped member cannot be forgotten.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection

from watchkeeper.errors import ValidationError
from watchkeeper.services.buckets import claim_or_check
from watchkeeper.services.context import RequestContext
from watchkeeper.storage import StorageError, parse_s3_uri
from watchkeeper.storage.base import relative_path_parts

PROCESSING_ROOT = "/opt/ml/processing/"
LOCAL, URI = "LocalPath", "S3Uri"

# The members of one monitoring job definition in its inline (MonitoringJobDefinition) form.
_INLINE_DEFINITION = (
    ("BaselineConfig.ConstraintsResource.S3Uri", URI),
    ("BaselineConfig.StatisticsResource.S3Uri", URI),
    ("MonitoringInputs[].EndpointInput.LocalPath", LOCAL),
    ("MonitoringInputs[].BatchTransformInput.LocalPath", LOCAL),
    ("MonitoringInputs[].BatchTransformInput.DataCapturedDestinationS3Uri", URI),
    ("MonitoringOutputConfig.MonitoringOutputs[].S3Output.S3Uri", URI),
    ("MonitoringOutputConfig.MonitoringOutputs[].S3Output.LocalPath", LOCAL),
    ("MonitoringAppSpecification.RecordPreprocessorSourceUri", URI),
    ("MonitoringAppSpecification.PostAnalyticsProcessorSourceUri", URI),
)


def _job_definition(kind: str) -> tuple[tuple[str, str], ...]:
    """The members of a Create<kind>JobDefinition request (the four shapes differ a little)."""
    rules = [
        (f"{kind}BaselineConfig.ConstraintsResource.S3Uri", URI),
        (f"{kind}JobInput.EndpointInput.LocalPath", LOCAL),
        (f"{kind}JobInput.BatchTransformInput.LocalPath", LOCAL),
        (f"{kind}JobInput.BatchTransformInput.DataCapturedDestinationS3Uri", URI),
        (f"{kind}JobOutputConfig.MonitoringOutputs[].S3Output.S3Uri", URI),
        (f"{kind}JobOutputConfig.MonitoringOutputs[].S3Output.LocalPath", LOCAL),
    ]
    if kind == "DataQuality":
        rules.append((f"{kind}BaselineConfig.StatisticsResource.S3Uri", URI))
    if kind in ("ModelQuality", "ModelBias"):
        rules.append((f"{kind}JobInput.GroundTruthS3Input.S3Uri", URI))
    if kind in ("DataQuality", "ModelQuality"):
        rules.append((f"{kind}AppSpecification.RecordPreprocessorSourceUri", URI))
        rules.append((f"{kind}AppSpecification.PostAnalyticsProcessorSourceUri", URI))
    else:
        rules.append((f"{kind}AppSpecification.ConfigUri", URI))
    return tuple(rules)


_SCHEDULE = tuple(
    (f"MonitoringScheduleConfig.MonitoringJobDefinition.{path}", rule) for path, rule in _INLINE_DEFINITION
)

RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "CreateMonitoringSchedule": _SCHEDULE,
    "UpdateMonitoringSchedule": _SCHEDULE,
    **{
        f"Create{kind}JobDefinition": _job_definition(kind)
        for kind in ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
    },
    "CreateProcessingJob": (
        ("ProcessingInputs[].S3Input.S3Uri", URI),
        ("ProcessingInputs[].S3Input.LocalPath", LOCAL),
        ("ProcessingInputs[].DatasetDefinition.LocalPath", LOCAL),
        ("ProcessingOutputConfig.Outputs[].S3Output.S3Uri", URI),
        ("ProcessingOutputConfig.Outputs[].S3Output.LocalPath", LOCAL),
    ),
    "CreateEndpointConfig": (("DataCaptureConfig.DestinationS3Uri", URI),),
    "CreateTransformJob": (
        ("TransformInput.DataSource.S3DataSource.S3Uri", URI),
        ("TransformOutput.S3OutputPath", URI),
        ("DataCaptureConfig.DestinationS3Uri", URI),
    ),
}


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def check_local_path(value: Any, member: str) -> None:
    """A container path a job reads or writes: a normalised absolute path strictly under /opt/ml/processing/."""
    problem = None
    if not isinstance(value, str):
        problem = "must be a string"
    elif any(ord(c) < 0x20 or c == "\x7f" for c in value):
        problem = "must not contain NUL or other control characters"
    elif not value.startswith(PROCESSING_ROOT):
        problem = f"must be an absolute path under {PROCESSING_ROOT}"
    elif posixpath.normpath(value) != value.rstrip("/"):
        problem = f"must be a normalised path under {PROCESSING_ROOT} (no '.', '..' or empty segments)"
    elif value.rstrip("/") == PROCESSING_ROOT.rstrip("/"):
        problem = f"must name a folder below {PROCESSING_ROOT}, not the folder itself"
    if problem is not None:
        raise ValidationError(f"{member} '{_shown(value)}' {problem}")


def check_s3_uri(value: Any, member: str) -> None:
    """An S3 URI (object or prefix) whose key the object store accepts (it cannot leave its folder)."""
    if not isinstance(value, str):
        raise ValidationError(f"{member} '{_shown(value)}' must be a string")
    try:
        key = parse_s3_uri(value).key.rstrip("/")
        if key:
            relative_path_parts(key, f"{member} '{_shown(value)}'")
    except StorageError as exc:
        text = str(exc)
        raise ValidationError(text if text.startswith(member) else f"{member}: {text}") from None


_CHECKS = {LOCAL: check_local_path, URI: check_s3_uri}


def _members(value: Any, parts: list[str], shown: str) -> Iterator[tuple[str, Any]]:
    """The values at a rule's path (`A.B[].C`: every element of list B), with their member names."""
    if not parts:
        yield shown, value
        return
    head, rest = parts[0], parts[1:]
    name = head.removesuffix("[]")
    if not isinstance(value, Mapping) or value.get(name) is None:
        return
    child = value[name]
    prefix = f"{shown}.{name}" if shown else name
    if head.endswith("[]"):
        for i, item in enumerate(child if isinstance(child, list) else []):
            yield from _members(item, rest, f"{prefix}[{i}]")
    else:
        yield from _members(child, rest, prefix)


def check_locations(
    operation: str,
    params: Mapping[str, Any],
    conn: Connection | None = None,
    ctx: RequestContext | None = None,
) -> None:
    """Every LocalPath and S3 URI `operation`'s request carries; ValidationError on the first bad one.

    With `conn` (the create's open write transaction) and `ctx`, each S3 URI's bucket is then claimed for
    `ctx.account` or refused as another account's (`services/buckets.claim_or_check`): a claim commits with
    the create or not at all. Without them only the shape is checked (jobs that executions build).
    """
    if (conn is None) != (ctx is None):
        raise TypeError("check_locations needs both conn and ctx to check bucket owners, or neither")
    uris: list[tuple[str, str]] = []
    for path, rule in RULES[operation]:
        for member, value in _members(params, path.split("."), ""):
            _CHECKS[rule](value, member)
            if rule == URI:
                uris.append((member, value))
    if conn is None or ctx is None:
        return
    for member, uri in uris:
        claim_or_check(conn, ctx, parse_s3_uri(uri).bucket, member, uri)

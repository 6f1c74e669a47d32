"""JSON documents a job is given (baseline statistics and constraints): read, checked, and named in
failure reasons as the job sees them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from watchkeeper.jobs.toolkit.summary import JobFailed


def shown_path(value: Any) -> str:
    """A file as the job sees it: `/opt/ml/...` rather than the job root's folder on the host."""
    if isinstance(value, Mapping):
        return "(given as a document)"
    text = str(value)
    root = os.environ.get("WATCHKEEPER_JOB_ROOT")
    if root:
        prefix = str(Path(root) / "opt" / "ml") + os.sep
        if text.startswith(prefix):
            return "/opt/ml/" + text[len(prefix):]
    return text


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__)


def read_json_document(value: str | os.PathLike[str], what: str) -> Any:
    """A JSON file's value; a missing, unreadable, non-UTF-8 or non-JSON file fails the job with a reason
    that names the file (as the job sees it) and what is wrong."""
    path = Path(value)
    shown = shown_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise JobFailed(f"The {what} file {shown!r} does not exist.") from error
    except IsADirectoryError as error:
        raise JobFailed(f"ClientError: {what} {shown} is a folder, not a JSON file") from error
    except OSError as error:
        raise JobFailed(f"ClientError: {what} {shown} cannot be read: {error.strerror or error}") from error
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JobFailed(
            f"ClientError: {what} {shown} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}): expected a JSON document"
        ) from error
    if not text.strip():
        raise JobFailed(f"ClientError: {what} {shown} is empty: expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise JobFailed(
            f"ClientError: {what} {shown} is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:
        raise JobFailed(f"ClientError: {what} {shown} is not JSON this analyzer reads: nested too deeply") from error


def check_feature_document(document: Any, what: str, shown: str) -> dict[str, Any]:
    """A data-quality statistics or constraints document: an object whose `features` is a list of objects
    with a `name` (spec §5); anything else fails the job saying what is wrong."""
    kind = "constraints" if "constraints" in what else "statistics"
    lead = f"ClientError: {what} {shown} is not a {kind} document"
    if not isinstance(document, dict):
        raise JobFailed(f'{lead}: expected a JSON object with "features", got {_json_type(document)}')
    if "features" not in document:
        keys = ", ".join(f'"{k}"' for k in list(document)[:8]) or "none"
        raise JobFailed(f'{lead}: expected a JSON object with "features", got an object without it (keys: {keys})')
    features = document["features"]
    if not isinstance(features, list):
        raise JobFailed(f'{lead}: "features" must be a list, got {_json_type(features)}')
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise JobFailed(f'{lead}: "features"[{i}] must be an object, got {_json_type(feature)}')
        if not isinstance(feature.get("name"), str):
            raise JobFailed(f'{lead}: "features"[{i}] has no "name" string')
    if kind == "constraints" and not isinstance(document.get("monitoring_config", {}), dict):
        raise JobFailed(f'{lead}: "monitoring_config" must be an object, '
                        f"got {_json_type(document['monitoring_config'])}")
    return document


def load_feature_document(value: Any, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return check_feature_document(dict(value), what, shown_path(value))
    return check_feature_document(read_json_document(value, what), what, shown_path(value))

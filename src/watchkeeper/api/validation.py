"""Request validation against botocore's own SageMaker service model.

botocore checks only required members, Python types and `min` before sending; AWS checks the rest on the
server. We check all of it (required, JSON types, unknown members, min/max, ranges, enums, anchored
patterns) and report in the Coral style AWS uses:
`1 validation error detected: Value 'x' at 'monitoringScheduleName' failed to satisfy constraint: ...`.
A wrong JSON type is a SerializationException, as AWS's JSON protocol reports it.
Timestamps arrive as epoch seconds (or ISO-8601) and leave as float epoch seconds.
"""

from __future__ import annotations

import functools
import logging
import math
from datetime import UTC, datetime
from typing import Any

import orjson
import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

from watchkeeper.errors import SerializationError, ValidationError

log = logging.getLogger(__name__)

_MAX_REPORTED = 10
# A string member the model sets no maximum for (ListProcessingJobs' NameContains, FeaturesAttribute, logs'
# nextToken) is held to this many characters (docs/api-coverage.md): AWS bounds every string on its side,
# and an unbounded one reached SQLite's LIKE limit ("LIKE pattern too complex", an HTTP 500).
MAX_UNMODELLED_STRING = 1024


def coral_name(member: str) -> str:
    """AWS names members lowerCamelCase in validation messages."""
    return member[:1].lower() + member[1:]


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern)
    except regex.error:  # a Java-only construct: skip the check rather than reject valid input
        log.warning("cannot compile model pattern %r; not enforced", pattern)
        return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


class _Collector:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def fail(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.messages.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")


_JSON_TYPE = {
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "float": "a number",
    "double": "a number",
    "boolean": "a boolean",
    "timestamp": "a timestamp",
    "blob": "a base64 string",
    "structure": "an object",
    "map": "an object",
    "list": "an array",
}


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(shape: Shape, value: Any, path: str) -> SerializationError:
    where = f" at '{path}'" if path else ""
    return SerializationError(
        f"Expected {_JSON_TYPE.get(shape.type_name, shape.type_name)}{where} "
        f"(shape {shape.name}) but found {_json_kind(value)}"
    )


def _parse_timestamp(value: Any, shape: Shape, path: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            # A time without an offset is UTC, as AWS reads it, not the server's local time.
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):  # "nan" and "inf" parse as floats but are not times
                    return number
    raise _type_error(shape, value, path)


def _check_bounds(shape: Shape, value: Any, size: int | float, path: str, out: _Collector) -> None:
    meta = shape.metadata
    numeric = shape.type_name in ("integer", "long", "float", "double")
    noun = "value" if numeric else "length"
    if "min" in meta and size < meta["min"]:
        out.fail(value, path, f"Member must have {noun} greater than or equal to {meta['min']}")
    if "max" in meta and size > meta["max"]:
        out.fail(value, path, f"Member must have {noun} less than or equal to {meta['max']}")


def _check(shape: Shape, value: Any, path: str, out: _Collector) -> Any:
    kind = shape.type_name
    if getattr(shape, "is_document_type", False):
        return value
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            raise _type_error(shape, value, path)
        result: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            child = f"{path}.{coral_name(name)}" if path else coral_name(name)
            if member is None:
                out.messages.append(
                    f"Member '{name}' at '{child}' failed to satisfy constraint: not a known member of {shape.name}"
                )
                continue
            if item is None:
                continue
            result[name] = _check(member, item, child, out)
        for name in shape.required_members:
            if value.get(name) is None:
                child = f"{path}.{coral_name(name)}" if path else coral_name(name)
                out.fail(None, child, "Member must not be null")
        if getattr(shape, "is_tagged_union", False) and len(result) > 1:
            out.fail(value, path, f"Exactly one member of {shape.name} must be set")
        return result
    if kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            raise _type_error(shape, value, path)
        _check_bounds(shape, value, len(value), path, out)
        return [_check(shape.member, item, f"{path}.{i}.member", out) for i, item in enumerate(value, start=1)]
    if kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            raise _type_error(shape, value, path)
        _check_bounds(shape, value, len(value), path, out)
        mapped: dict[str, Any] = {}
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", out)
            mapped[key] = _check(shape.value, item, f"{path}.{key}", out)
        return mapped
    if kind == "string":
        if not isinstance(value, str):
            raise _type_error(shape, value, path)
        _check_bounds(shape, value, len(value), path, out)
        if "max" not in shape.metadata and not shape.enum and len(value) > MAX_UNMODELLED_STRING:
            out.fail(
                value[:64] + "...",
                path,
                f"Member must have length less than or equal to {MAX_UNMODELLED_STRING}",
            )
        if "\x00" in value:  # no AWS pattern admits NUL, and PostgreSQL text cannot store it
            out.fail(value.replace("\x00", "\\0"), path, "Member must not contain NUL characters")
        if shape.enum and value not in shape.enum:
            out.fail(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and pattern != ".*":
            compiled = _compiled(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                shown = pattern if pattern.startswith("^") else f"^{pattern}"
                out.fail(value, path, f"Member must satisfy regular expression pattern: {shown}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise _type_error(shape, value, path)
        _check_bounds(shape, value, value, path, out)
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(shape, value, path)
        _check_bounds(shape, value, value, path, out)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(shape, value, path)
        return value
    if kind == "timestamp":
        return _parse_timestamp(value, shape, path)
    if kind == "blob":
        if not isinstance(value, str):
            raise _type_error(shape, value, path)
        _check_bounds(shape, value, len(value), path, out)
        return value
    return value


def validate_input(shape: StructureShape | None, params: Any) -> dict[str, Any]:
    """Return the request with timestamps normalised, or raise the error AWS would send."""
    if shape is None:
        if params not in ({}, None):
            if not isinstance(params, dict):
                raise SerializationError("Expected an object as the request body")
        return {}
    out = _Collector()
    cleaned = _check(shape, params, "", out)
    if out.messages:
        n = len(out.messages)
        noun = "error" if n == 1 else "errors"
        shown = "; ".join(out.messages[:_MAX_REPORTED])
        raise ValidationError(f"{n} validation {noun} detected: {shown}")
    return cleaned

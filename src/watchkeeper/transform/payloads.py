"""An input object cut into the requests a transform job sends (SplitType, BatchStrategy, MaxPayloadInMB).

- SplitType None: the object is one request (and one record).
- SplitType Line: records are the object's non-empty lines. SingleRecord sends one record a request;
  MultiRecord as many whole records as fit in MaxPayloadInMB. Without per-record work (filters, join,
  inference ids) a mini-batch is a slice of the object's bytes cut at a line end: no per-line objects.

A record larger than MaxPayloadInMB fails the job, as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MB = 1024 * 1024
_BLANK_LINES = re.compile(rb"(?:\r?\n)[ \t\r]*(?=\r?\n)")


class PayloadError(ValueError):
    """A record or object that cannot be sent within the job's limits."""


@dataclass(frozen=True)
class Batch:
    payload: bytes
    records: list[bytes] | None  # the records, when they are handled one by one
    first: int  # the index of the batch's first record in the object (for messages)


def _limit_text(limit: int) -> str:
    return f"MaxPayloadInMB ({limit // (1024 * 1024)} MB)"


def whole(data: bytes, limit: int | None) -> Iterator[Batch]:
    if limit is not None and len(data) > limit:
        raise PayloadError(f"the object is {len(data)} bytes, more than {_limit_text(limit)}; use SplitType Line")
    yield Batch(data, [data], 0)


def _compact(data: bytes) -> bytes:
    """Blank lines dropped, one line end at the end."""
    data = _BLANK_LINES.sub(b"", data).lstrip(b"\r\n")
    return data if not data or data.endswith(b"\n") else data + b"\n"


def count_records(data: bytes) -> int:
    """The non-empty lines of a block of whole lines."""
    return _compact(data).count(b"\n")


def slices(data: bytes, limit: int | None) -> Iterator[Batch]:
    """MultiRecord without per-record work: byte slices of whole lines, each at most `limit` bytes."""
    data = _compact(data)
    if limit is None:
        if data:
            yield Batch(data, None, 0)
        return
    start, count = 0, 0
    view = memoryview(data)
    while start < len(data):
        end = min(start + limit, len(data))
        if end < len(data):
            cut = data.rfind(b"\n", start, end)
            if cut < 0:
                stop = data.find(b"\n", start)
                size = (stop if stop >= 0 else len(data)) - start
                raise PayloadError(f"record {count + 1} is {size} bytes, more than {_limit_text(limit)}")
            end = cut + 1
        chunk = bytes(view[start:end])
        yield Batch(chunk, None, count)
        count += chunk.count(b"\n")
        start = end


def records_of(data: bytes) -> list[bytes]:
    """The non-empty lines of an object, without their line ends."""
    return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]


def batches(records: list[bytes], limit: int | None, multi: bool) -> Iterator[Batch]:
    """Per-record mode: one record a request, or as many as fit (records joined by line ends)."""
    if not multi:
        for index, record in enumerate(records):
            if limit is not None and len(record) > limit:
                raise PayloadError(f"record {index + 1} is {len(record)} bytes, more than {_limit_text(limit)}")
            yield Batch(record, [record], index)
        return
    group: list[bytes] = []
    size, first = 0, 0
    for index, record in enumerate(records):
        cost = len(record) + 1
        if limit is not None and cost > limit:
            raise PayloadError(f"record {index + 1} is {len(record)} bytes, more than {_limit_text(limit)}")
        if group and limit is not None and size + cost > limit:
            yield Batch(b"\n".join(group) + b"\n", group, first)
            group, size, first = [], 0, index
        group.append(record)
        size += cost
    if group:
        yield Batch(b"\n".join(group) + b"\n", group, first)

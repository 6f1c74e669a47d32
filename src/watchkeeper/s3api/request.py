"""One S3 request as the handlers see it, their answer, and what several handlers share."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate

from watchkeeper.s3api.files import Files
from watchkeeper.s3api.payload import Body
from watchkeeper.services.context import RequestContext

MAX_XML_BODY = 4 * 1024 * 1024


@dataclass
class S3Request:
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    headers: dict[str, str]
    ctx: RequestContext
    body: Body

    def resource(self) -> str:
        return "/" + "/".join(part for part in (self.bucket, self.key) if part)


@dataclass
class S3Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    length: int | None = None


def xml_response(body: bytes, status: int = 200) -> S3Response:
    return S3Response(status, [("content-type", "application/xml")], body)


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def iso_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"


async def receive_to_temp(request: S3Request, files: Files, limit: int) -> str:
    """The verified body in a temporary file of the store (its path), or the body's error and no file."""
    fd, tmp = files.temp()
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.body.chunks(limit):
                f.write(chunk)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


@dataclass(frozen=True)
class Deps:
    """What every handler uses: the files, the bucket owners, the bounds."""

    files: Files
    buckets: object  # access.Buckets (typed loosely: access imports the store, handlers only call it)
    max_object_bytes: int

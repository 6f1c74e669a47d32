"""Object calls: PutObject, GetObject (ranges, conditions), HeadObject, DeleteObject(s), CopyObject."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool

from watchkeeper.s3api.errors import S3Error, malformed_xml, no_such_key
from watchkeeper.s3api.files import Meta, Stat
from watchkeeper.s3api.request import (
    MAX_XML_BODY,
    Deps,
    S3Request,
    S3Response,
    http_date,
    iso_date,
    receive_to_temp,
    xml_response,
)
from watchkeeper.s3api.xml import parse, render, text

# Headers S3 keeps with an object and answers on GET and HEAD.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
MAX_METADATA_BYTES = 2048  # S3's bound on user metadata (x-amz-meta-*), names and values together
MAX_DELETE_KEYS = 1000
_READ_CHUNK = 1 << 20


def metadata_of(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    stored = {k: v for k, v in headers.items() if k.startswith("x-amz-meta-") or k in STORED_HEADERS}
    encoding = stored.get("content-encoding", "")
    if "aws-chunked" in encoding:  # a transfer encoding of the request, not of the object
        kept = ",".join(e for e in (p.strip() for p in encoding.split(",")) if e and e != "aws-chunked")
        stored.pop("content-encoding")
        if kept:
            stored["content-encoding"] = kept
    size = sum(len(k) - len("x-amz-meta-") + len(v) for k, v in stored.items() if k.startswith("x-amz-meta-"))
    if size > MAX_METADATA_BYTES:
        raise S3Error("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.",
                      MaxSizeAllowed=str(MAX_METADATA_BYTES))
    return headers.get("content-type", "binary/octet-stream"), stored


def object_headers(meta: Meta, st: Stat, checksum: bool) -> list[tuple[str, str]]:
    headers = [("etag", meta.etag), ("last-modified", http_date(st.mtime)), ("accept-ranges", "bytes"),
               ("content-type", meta.content_type), *meta.headers.items()]
    if meta.checksum and checksum:  # S3 answers the checksum only to x-amz-checksum-mode: ENABLED
        headers.append((meta.checksum[0], meta.checksum[1]))
    if meta.parts:
        headers.append(("x-amz-mp-parts-count", str(meta.parts)))
    return headers


async def put_object(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket and req.key
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    deps.files.path(req.bucket, req.key)  # the key is refused before a byte is read
    content_type, stored = metadata_of(req.headers)
    if "if-match" in req.headers or "if-none-match" in req.headers:
        await run_in_threadpool(_write_conditions, deps, req)
    declared = req.body.length()  # None for Transfer-Encoding: chunked, bounded as it streams
    if declared is not None and declared > deps.max_object_bytes:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.",
                      MaxSizeAllowed=str(deps.max_object_bytes))
    tmp = await receive_to_temp(req, deps.files, deps.max_object_bytes)
    checksum = req.body.checksum_header()
    meta = Meta(f'"{req.body.md5.hexdigest()}"', content_type, stored, list(checksum) if checksum else None)
    try:
        await run_in_threadpool(deps.files.commit, tmp, req.bucket, req.key, meta)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    headers = [("etag", meta.etag)] + ([checksum] if checksum else [])
    return S3Response(200, headers)


def _write_conditions(deps: Deps, req: S3Request) -> None:
    """Conditional writes (If-None-Match: *, If-Match: <etag>), checked before the body is read. The check
    and the rename are not one atomic step: two writers racing on one key may both pass."""
    assert req.bucket and req.key
    found = deps.files.stat(req.bucket, req.key)
    if found is None:
        if "if-match" in req.headers:
            raise no_such_key(req.key)
        return
    meta = deps.files.meta(req.bucket, req.key, *found)
    wanted = req.headers.get("if-match")
    if req.headers.get("if-none-match", "").strip() in ("*", meta.etag, meta.etag.strip('"')) or (
        wanted is not None and wanted.strip() not in (meta.etag, meta.etag.strip('"'), "*")
    ):
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                      Condition="If-Match" if wanted is not None else "If-None-Match")


def _found(deps: Deps, req: S3Request) -> tuple[Path, Stat, Meta]:
    assert req.bucket and req.key is not None
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    found = deps.files.stat(req.bucket, req.key)
    if found is None:
        raise no_such_key(req.key)
    path, st = found
    return path, st, deps.files.meta(req.bucket, req.key, path, st)


def _conditions(headers: dict[str, str], meta: Meta, st: Stat) -> int | None:
    """304 or 412 as S3 answers If-Match / If-None-Match / If-(Un)Modified-Since, else None."""
    def tags(value: str) -> set[str]:
        return {t.strip() if t.strip().startswith('"') else f'"{t.strip()}"' for t in value.split(",")}

    def since(name: str) -> float | None:
        try:
            return parsedate_to_datetime(headers[name]).timestamp() if name in headers else None
        except (TypeError, ValueError):
            return None

    if "if-match" in headers and not ({meta.etag, '"*"'} & tags(headers["if-match"])):
        return 412
    unmodified = since("if-unmodified-since")
    if "if-match" not in headers and unmodified is not None and int(st.mtime) > unmodified:
        return 412
    if "if-none-match" in headers and {meta.etag, '"*"'} & tags(headers["if-none-match"]):
        return 304
    modified = since("if-modified-since")
    if "if-none-match" not in headers and modified is not None and int(st.mtime) <= modified:
        return 304
    return None


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range; None for a whole object (absent, or several ranges)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first_text, dash, last_text = header[6:].strip().partition("-")
    if not dash or not (first_text or last_text) or not (first_text + last_text).isdigit():
        return None
    if not first_text:
        length = int(last_text)
        if length == 0:
            raise S3Error("InvalidRange", "The requested range is not satisfiable", 416,
                          RangeRequested=header, ActualObjectSize=str(size))
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or (last_text and int(last_text) < first):
        if last_text and int(last_text) < first:
            return None  # a syntactically invalid range is ignored, as S3 does
        raise S3Error("InvalidRange", "The requested range is not satisfiable", 416,
                      RangeRequested=header, ActualObjectSize=str(size))
    return first, last


def _part_range(req: S3Request, meta: Meta, st: Stat) -> tuple[int, int] | None:
    """GetObject ?partNumber=N: the bytes of part N of a multipart object (part 1 is a whole plain object)."""
    value = req.query["partNumber"]
    sizes = meta.part_sizes or [st.size]
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
                      ArgumentName="partNumber", ArgumentValue=value)
    if int(value) > len(sizes):
        raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
                      PartNumberRequested=value, ActualPartCount=str(len(sizes)))
    if st.size == 0:
        return None  # an empty object has no byte to range over: it is answered whole
    first = sum(sizes[: int(value) - 1])
    return first, first + sizes[int(value) - 1] - 1


async def _read(path: Path, first: int, length: int) -> AsyncIterator[bytes]:
    f = open(path, "rb")
    try:
        f.seek(first)
        while length > 0:
            chunk = await run_in_threadpool(f.read, min(_READ_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        f.close()


async def get_object(deps: Deps, req: S3Request, head: bool = False) -> S3Response:
    path, st, meta = await run_in_threadpool(_found, deps, req)
    status = _conditions(req.headers, meta, st)
    if status == 304:
        return S3Response(304, [("etag", meta.etag), ("last-modified", http_date(st.mtime))])
    if status == 412:
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                      Condition="If-Match")
    headers = object_headers(meta, st, req.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED")
    for name, header in (("response-content-type", "content-type"), ("response-cache-control", "cache-control"),
                         ("response-content-disposition", "content-disposition"),
                         ("response-content-encoding", "content-encoding"),
                         ("response-content-language", "content-language"), ("response-expires", "expires")):
        if name in req.query:
            headers = [(k, v) for k, v in headers if k != header] + [(header, req.query[name])]
    span = _part_range(req, meta, st) if "partNumber" in req.query else byte_range(req.headers.get("range"), st.size)
    first, last = span if span else (0, st.size - 1)
    length = last - first + 1 if st.size else 0
    if span:  # a part's checksum is not the object's: S3 sends none with a range
        headers = [(k, v) for k, v in headers if not k.startswith("x-amz-checksum-")]
        headers.append(("content-range", f"bytes {first}-{last}/{st.size}"))
    if head:
        return S3Response(206 if span else 200, headers, length=length)
    return S3Response(206 if span else 200, headers, stream=_read(path, first, length), length=length)


async def delete_object(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket and req.key
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    if not req.key.endswith("/"):
        await run_in_threadpool(deps.files.delete, req.bucket, req.key)
    return S3Response(204)


async def delete_objects(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    root = parse(await req.body.read(MAX_XML_BODY))
    quiet = (text(root, "Quiet") or "").strip().lower() == "true"
    keys = [text(item, "Key") for item in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS or any(k is None for k in keys):
        raise malformed_xml()
    results: list[tuple[str, object]] = []
    for key in keys:
        assert key is not None
        try:
            if not key.endswith("/"):
                deps.files.path(req.bucket, key)
                await run_in_threadpool(deps.files.delete, req.bucket, key)
            if not quiet:
                results.append(("Deleted", [("Key", key)]))
        except S3Error as error:
            results.append(("Error", [("Key", key), ("Code", error.code), ("Message", error.message)]))
    return xml_response(render("DeleteResult", results))  # type: ignore[arg-type]


def copy_source(deps: Deps, req: S3Request) -> tuple[str, str, Path, Stat, Meta]:
    source = unquote(req.headers["x-amz-copy-source"].split("?versionId=", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                      ArgumentName="x-amz-copy-source")
    deps.buckets.require(req.ctx, bucket)  # type: ignore[attr-defined]
    found = deps.files.stat(bucket, key)
    if found is None:
        raise no_such_key(key)
    path, st = found
    meta = deps.files.meta(bucket, key, path, st)
    conditions = {name.replace("x-amz-copy-source-", ""): value for name, value in req.headers.items()
                  if name.startswith("x-amz-copy-source-if-")}
    if conditions and _conditions(conditions, meta, st) is not None:
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
    return bucket, key, path, st, meta


def _copy(deps: Deps, req: S3Request) -> tuple[Meta, Stat]:
    assert req.bucket and req.key
    bucket, key, path, st, meta = copy_source(deps, req)
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    deps.files.path(req.bucket, req.key)
    replace = req.headers.get("x-amz-metadata-directive", "COPY").upper() == "REPLACE"
    if (bucket, key) == (req.bucket, req.key) and not replace:
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata, storage class, website redirect location or "
                      "encryption attributes.")
    if st.size > deps.max_object_bytes:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    if replace:
        content_type, stored = metadata_of(req.headers)
        meta = Meta(meta.etag, content_type, stored, meta.checksum, meta.parts)
    fd, tmp = deps.files.temp()
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out, _READ_CHUNK)
        return meta, deps.files.commit(tmp, req.bucket, req.key, meta)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


async def copy_object(deps: Deps, req: S3Request) -> S3Response:
    meta, st = await run_in_threadpool(_copy, deps, req)
    body = render("CopyObjectResult", [("LastModified", iso_date(st.mtime)), ("ETag", meta.etag)])
    return xml_response(body)

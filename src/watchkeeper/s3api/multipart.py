"""Multipart uploads, their state on disk: `ROOT/.multipart/<upload id>/upload.json` (bucket, key, owner,
metadata), `part-<n>` and `part-<n>.json` (ETag, size). Complete concatenates the parts into the object
(temporary file, then rename); abort removes the folder. Bounds: part numbers 1..10,000, parts of 5 MiB but
the last, the object's size bound on the whole, at most 1,000 uploads in progress per bucket."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from watchkeeper.s3api.errors import S3Error, malformed_xml
from watchkeeper.s3api.files import Meta
from watchkeeper.s3api.objects import copy_source, metadata_of
from watchkeeper.s3api.request import (
    MAX_XML_BODY,
    Deps,
    S3Request,
    S3Response,
    iso_date,
    receive_to_temp,
    xml_response,
)
from watchkeeper.s3api.xml import parse, render, text

MULTIPART_DIR = ".multipart"
MAX_PART_NUMBER = 10_000
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 5 * 1024 * 1024 * 1024
MAX_UPLOADS_PER_BUCKET = 1000
_CHUNK = 1 << 20


def _root(deps: Deps) -> Path:
    return deps.files.root / MULTIPART_DIR


def _upload(deps: Deps, req: S3Request) -> tuple[Path, dict[str, Any]]:
    upload_id = req.query.get("uploadId", "")
    folder = _root(deps) / upload_id
    try:
        state = orjson.loads((folder / "upload.json").read_bytes()) if upload_id.isalnum() else None
    except (OSError, orjson.JSONDecodeError):
        state = None
    if state is None or (state["bucket"], state["key"], state["account"]) != (req.bucket, req.key, req.ctx.account):
        raise S3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the "
                      "upload may have been aborted or completed.", 404, UploadId=upload_id)
    return folder, state


def _uploads_of(deps: Deps, bucket: str) -> list[dict[str, Any]]:
    uploads = []
    try:
        folders = list(os.scandir(_root(deps)))
    except FileNotFoundError:
        return []
    for entry in folders:
        try:
            state = orjson.loads(Path(entry.path, "upload.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if state["bucket"] == bucket:
            uploads.append({**state, "id": entry.name})
    return sorted(uploads, key=lambda s: (s["key"], s["initiated"]))


async def create(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket and req.key
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    deps.files.path(req.bucket, req.key)
    if len(await run_in_threadpool(_uploads_of, deps, req.bucket)) >= MAX_UPLOADS_PER_BUCKET:
        raise S3Error("TooManyUploads", f"A bucket holds at most {MAX_UPLOADS_PER_BUCKET} uploads in progress "
                      "here; complete or abort some.", 503)
    content_type, stored = metadata_of(req.headers)
    await run_in_threadpool(_sweep, deps)
    upload_id = secrets.token_hex(24)
    folder = _root(deps) / upload_id
    folder.mkdir(parents=True)
    state = {"bucket": req.bucket, "key": req.key, "account": req.ctx.account, "initiated": time.time(),
             "content_type": content_type, "headers": stored}
    (folder / "upload.json").write_bytes(orjson.dumps(state))
    body = render("InitiateMultipartUploadResult", [("Bucket", req.bucket), ("Key", req.key), ("UploadId", upload_id)])
    return xml_response(body)


def _part_number(req: S3Request) -> int:
    value = req.query.get("partNumber", "")
    if not value.isdigit() or not 1 <= int(value) <= MAX_PART_NUMBER:
        raise S3Error("InvalidArgument", f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
                      ArgumentName="partNumber", ArgumentValue=value)
    return int(value)


async def upload_part(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket and req.key
    number = _part_number(req)
    folder, _ = _upload(deps, req)
    limit = min(MAX_PART_BYTES, deps.max_object_bytes)
    if "x-amz-copy-source" in req.headers:
        tmp, md5 = await run_in_threadpool(_copy_part, deps, req, limit)
    else:
        tmp = await receive_to_temp(req, deps.files, limit)
        md5 = req.body.md5.hexdigest()
    os.replace(tmp, folder / f"part-{number}")
    size = (folder / f"part-{number}").stat().st_size
    (folder / f"part-{number}.json").write_bytes(orjson.dumps({"etag": f'"{md5}"', "size": size, "at": time.time()}))
    if "x-amz-copy-source" in req.headers:
        return xml_response(render("CopyPartResult", [("LastModified", iso_date(time.time())), ("ETag", f'"{md5}"')]))
    checksum = req.body.checksum_header()
    return S3Response(200, [("etag", f'"{md5}"')] + ([checksum] if checksum else []))


def _copy_part(deps: Deps, req: S3Request, limit: int) -> tuple[str, str]:
    _, _, path, st, _ = copy_source(deps, req)
    first, last = 0, st.size - 1
    span = req.headers.get("x-amz-copy-source-range", "")
    if span:
        a, _, b = span.removeprefix("bytes=").partition("-")
        if not span.startswith("bytes=") or not (a.isdigit() and b.isdigit()) or int(a) > int(b):
            raise S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last "
                          "where first and last are the zero-based offsets of the first and last bytes to copy",
                          ArgumentName="x-amz-copy-source-range")
        if int(b) >= st.size:
            raise S3Error("InvalidRange", f"Range specified is not valid for source object of size: {st.size}", 416)
        first, last = int(a), int(b)
    if last - first + 1 > limit:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    fd, tmp = deps.files.temp()
    digest, left = hashlib.md5(), last - first + 1
    with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
        src.seek(first)
        while left > 0 and (chunk := src.read(min(_CHUNK, left))):
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    return tmp, digest.hexdigest()


def _parts(folder: Path) -> dict[int, dict[str, Any]]:
    parts = {}
    for entry in folder.glob("part-*.json"):
        parts[int(entry.name[5:-5])] = orjson.loads(entry.read_bytes())
    return parts


def _completed(deps: Deps, req: S3Request) -> str | None:
    """The ETag of an upload already completed into this key (S3 answers a repeated complete alike)."""
    upload_id = req.query.get("uploadId", "")
    try:
        done = orjson.loads((_root(deps) / upload_id / "completed.json").read_bytes()) if upload_id.isalnum() else None
    except (OSError, orjson.JSONDecodeError):
        return None
    if done is None or (done["bucket"], done["key"], done["account"]) != (req.bucket, req.key, req.ctx.account):
        return None
    return str(done["etag"])


def _complete(deps: Deps, req: S3Request, body: bytes) -> str:
    assert req.bucket and req.key
    if (etag := _completed(deps, req)) is not None:
        return etag
    folder, state = _upload(deps, req)
    root = parse(body)
    wanted = []
    for part in root.findall("Part"):
        number, etag = text(part, "PartNumber"), text(part, "ETag")
        if number is None or etag is None or not number.strip().isdigit():
            raise malformed_xml()
        wanted.append((int(number), etag.strip() if etag.strip().startswith('"') else f'"{etag.strip()}"'))
    if not wanted:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                      "published schema (no parts).")
    if [n for n, _ in wanted] != sorted({n for n, _ in wanted}):
        raise S3Error("InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be "
                      "specified in order by part number.")
    have = _parts(folder)
    for index, (number, etag) in enumerate(wanted):
        if number not in have or have[number]["etag"] != etag:
            raise S3Error("InvalidPart", "One or more of the specified parts could not be found. The part may not "
                          "have been uploaded, or the specified entity tag may not match the part's entity tag.",
                          PartNumber=str(number), ETag=etag)
        if index < len(wanted) - 1 and have[number]["size"] < MIN_PART_BYTES:
            raise S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                          PartNumber=str(number), MinSizeAllowed=str(MIN_PART_BYTES))
    if sum(have[n]["size"] for n, _ in wanted) > deps.max_object_bytes:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
    fd, tmp = deps.files.temp()
    try:
        with os.fdopen(fd, "wb") as out:
            for number, _ in wanted:
                with open(folder / f"part-{number}", "rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        combined = hashlib.md5(b"".join(bytes.fromhex(etag.strip('"')) for _, etag in wanted)).hexdigest()
        sizes = [have[n]["size"] for n, _ in wanted]
        meta = Meta(f'"{combined}-{len(wanted)}"', state["content_type"], state["headers"], None, len(wanted), sizes)
        deps.files.commit(tmp, req.bucket, req.key, meta)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for entry in folder.iterdir():  # the parts go; a marker stays for a repeated complete (swept after a day)
        if entry.name != "upload.json":
            entry.unlink()
    (folder / "completed.json").write_bytes(orjson.dumps({**state, "etag": meta.etag, "completed": time.time()}))
    (folder / "upload.json").unlink()
    return meta.etag


def _sweep(deps: Deps) -> None:
    """Completion markers older than a day go when a new upload starts."""
    try:
        entries = list(os.scandir(_root(deps)))
    except FileNotFoundError:
        return
    for entry in entries:
        marker = Path(entry.path, "completed.json")
        try:
            if marker.stat().st_mtime < time.time() - 86400:
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            continue


async def complete(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket and req.key
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    body = await req.body.read(MAX_XML_BODY)
    etag = await run_in_threadpool(_complete, deps, req, body)
    return xml_response(render("CompleteMultipartUploadResult", [
        ("Location", f"/{req.bucket}/{req.key}"), ("Bucket", req.bucket), ("Key", req.key), ("ETag", etag)]))


async def abort(deps: Deps, req: S3Request) -> S3Response:
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    folder, _ = _upload(deps, req)
    await run_in_threadpool(shutil.rmtree, folder, True)
    return S3Response(204)


async def list_parts(deps: Deps, req: S3Request) -> S3Response:
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    folder, _ = _upload(deps, req)
    marker = int(req.query.get("part-number-marker", "0") or 0)
    limit = min(int(req.query.get("max-parts", "1000") or 1000), 1000)
    numbers = sorted(n for n in _parts(folder) if n > marker)
    shown, truncated = numbers[:limit], len(numbers) > limit
    parts = _parts(folder)
    entries = [("Part", [("PartNumber", n), ("LastModified", iso_date(parts[n]["at"])), ("ETag", parts[n]["etag"]),
                         ("Size", parts[n]["size"])]) for n in shown]
    head = [("Bucket", req.bucket), ("Key", req.key), ("UploadId", req.query["uploadId"]),
            ("PartNumberMarker", marker), ("MaxParts", limit), ("IsTruncated", truncated)]
    if truncated:
        head.append(("NextPartNumberMarker", shown[-1]))
    return xml_response(render("ListPartsResult", head + entries))  # type: ignore[arg-type]


async def list_uploads(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    prefix = req.query.get("prefix", "")
    uploads = [u for u in await run_in_threadpool(_uploads_of, deps, req.bucket) if u["key"].startswith(prefix)]
    entries = [("Upload", [("Key", u["key"]), ("UploadId", u["id"]), ("Initiated", iso_date(u["initiated"])),
                           ("StorageClass", "STANDARD")]) for u in uploads]
    head = [("Bucket", req.bucket), ("Prefix", prefix), ("MaxUploads", 1000), ("IsTruncated", False)]
    return xml_response(render("ListMultipartUploadsResult", head + entries))  # type: ignore[arg-type]

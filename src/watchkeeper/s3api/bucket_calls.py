"""Bucket calls: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning,
ListObjects (v1 and v2), ListObjectVersions (every object is its only version, "null")."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool

from watchkeeper.s3api.errors import S3Error
from watchkeeper.s3api.listing import page
from watchkeeper.s3api.request import MAX_XML_BODY, Deps, S3Request, S3Response, iso_date, xml_response
from watchkeeper.s3api.xml import parse, render

MAX_KEYS = 1000


def _owner(req: S3Request) -> list[tuple[str, object]]:
    return [("ID", req.ctx.account), ("DisplayName", req.ctx.account)]


async def list_buckets(deps: Deps, req: S3Request) -> S3Response:
    buckets = await run_in_threadpool(deps.buckets.list, req.ctx)  # type: ignore[attr-defined]
    prefix, token = req.query.get("prefix", ""), req.query.get("continuation-token", "")
    limit_text = req.query.get("max-buckets", "10000")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 10000:
        raise S3Error("InvalidArgument", "max-buckets must be an integer between 1 and 10000",
                      ArgumentName="max-buckets", ArgumentValue=limit_text)
    after = base64.urlsafe_b64decode(token.encode()).decode(errors="replace") if token else ""
    chosen = [(n, c) for n, c in buckets if n.startswith(prefix) and n > after]
    page, more = chosen[: int(limit_text)], len(chosen) > int(limit_text)
    entries = [("Bucket", [("Name", name), ("CreationDate", iso_date(created))]) for name, created in page]
    content: list[tuple[str, object]] = [("Owner", _owner(req)), ("Buckets", entries)]
    if more:
        content.append(("ContinuationToken", base64.urlsafe_b64encode(page[-1][0].encode()).decode()))
    if prefix:
        content.append(("Prefix", prefix))
    return xml_response(render("ListAllMyBucketsResult", content))  # type: ignore[arg-type]


async def create_bucket(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    body = await req.body.read(MAX_XML_BODY)
    if body.strip():
        parse(body)  # CreateBucketConfiguration: any LocationConstraint (buckets are global here, as names are)
    await run_in_threadpool(deps.buckets.create, req.ctx, req.bucket)  # type: ignore[attr-defined]
    return S3Response(200, [("location", f"/{req.bucket}")])


async def head_bucket(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    await run_in_threadpool(deps.buckets.require, req.ctx, req.bucket)  # type: ignore[attr-defined]
    return S3Response(200, [("x-amz-bucket-region", req.ctx.region)])


async def delete_bucket(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    await run_in_threadpool(deps.buckets.delete, req.ctx, req.bucket)  # type: ignore[attr-defined]
    return S3Response(204)


async def get_location(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    await run_in_threadpool(deps.buckets.require, req.ctx, req.bucket)  # type: ignore[attr-defined]
    region = "" if req.ctx.region == "us-east-1" else req.ctx.region
    return xml_response(render("LocationConstraint", region or None))


async def get_versioning(deps: Deps, req: S3Request) -> S3Response:
    assert req.bucket
    await run_in_threadpool(deps.buckets.require, req.ctx, req.bucket)  # type: ignore[attr-defined]
    return xml_response(render("VersioningConfiguration", []))


def _max_keys(req: S3Request) -> int:
    value = req.query.get("max-keys", str(MAX_KEYS))
    if not value.lstrip("-").isdigit() or int(value) < 0:
        raise S3Error("InvalidArgument", "Provided max-keys not an integer or within integer range",
                      ArgumentName="max-keys", ArgumentValue=value)
    return min(int(value), MAX_KEYS)


def _listing(deps: Deps, req: S3Request, after: str) -> tuple[list, list[str], bool, int]:
    assert req.bucket
    deps.buckets.require(req.ctx, req.bucket)  # type: ignore[attr-defined]
    prefix, delimiter, max_keys = req.query.get("prefix", ""), req.query.get("delimiter", ""), _max_keys(req)
    objects, prefixes, truncated = page(deps.files.bucket_dir(req.bucket), prefix, delimiter, after, max_keys)
    entries = []
    for key, st in objects:
        meta = deps.files.meta(req.bucket, key, deps.files.bucket_dir(req.bucket).joinpath(*key.split("/")), st)
        entries.append((key, st, meta.etag))
    return entries, prefixes, truncated, max_keys


async def list_objects(deps: Deps, req: S3Request) -> S3Response:
    v2 = req.query.get("list-type") == "2"
    url = req.query.get("encoding-type") == "url"
    if "encoding-type" in req.query and not url:
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", ArgumentName="encoding-type")

    def enc(value: str) -> str:
        return quote(value, safe="/") if url else value

    if v2:
        token = req.query.get("continuation-token")
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode() if token else req.query.get("start-after", "")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise S3Error("InvalidArgument", "The continuation token provided is incorrect",
                          ArgumentName="continuation-token") from None
    else:
        after = req.query.get("marker", "")
    entries, prefixes, truncated, max_keys = await run_in_threadpool(_listing, deps, req, after)
    contents = []
    for key, st, etag in entries:
        item: list[tuple[str, object]] = [("Key", enc(key)), ("LastModified", iso_date(st.mtime)), ("ETag", etag),
                                          ("Size", st.size), ("StorageClass", "STANDARD")]
        if not v2 or req.query.get("fetch-owner") == "true":
            item.append(("Owner", _owner(req)))
        contents.append(("Contents", item))
    last = max([k for k, _, _ in entries] + prefixes) if (entries or prefixes) else ""
    # What S3 encodes differs by version (botocore decodes the same members): v1 leaves Prefix as it is.
    prefix = req.query.get("prefix", "")
    head: list[tuple[str, object]] = [("Name", req.bucket), ("Prefix", enc(prefix) if v2 else prefix)]
    if v2:
        head += [("KeyCount", len(entries) + len(prefixes))]
        if "continuation-token" in req.query:
            head.append(("ContinuationToken", req.query["continuation-token"]))
        if "start-after" in req.query:
            head.append(("StartAfter", enc(req.query["start-after"])))
        if truncated:
            head.append(("NextContinuationToken", base64.urlsafe_b64encode(last.encode()).decode()))
    else:
        head.append(("Marker", enc(after)))
        if truncated:
            head.append(("NextMarker", enc(last)))
    head.append(("MaxKeys", max_keys))
    if req.query.get("delimiter"):
        head.append(("Delimiter", enc(req.query["delimiter"])))
    if url:
        head.append(("EncodingType", "url"))
    head.append(("IsTruncated", truncated))
    common = [("CommonPrefixes", [("Prefix", enc(p))]) for p in prefixes]
    return xml_response(render("ListBucketResult", head + contents + common))  # type: ignore[arg-type]


async def list_versions(deps: Deps, req: S3Request) -> S3Response:
    """Unversioned buckets: each object is its one version, `null`, and the latest."""
    after = req.query.get("key-marker", "")
    entries, prefixes, truncated, max_keys = await run_in_threadpool(_listing, deps, req, after)
    versions = [("Version", [("Key", key), ("VersionId", "null"), ("IsLatest", True),
                             ("LastModified", iso_date(st.mtime)), ("ETag", etag), ("Size", st.size),
                             ("StorageClass", "STANDARD"), ("Owner", _owner(req))]) for key, st, etag in entries]
    head: list[tuple[str, object]] = [("Name", req.bucket), ("Prefix", req.query.get("prefix", "")),
                                      ("KeyMarker", req.query.get("key-marker", "")), ("MaxKeys", max_keys),
                                      ("IsTruncated", truncated)]
    if truncated:
        last = max([k for k, _, _ in entries] + prefixes)
        head += [("NextKeyMarker", last), ("NextVersionIdMarker", "null")]
    common = [("CommonPrefixes", [("Prefix", p)]) for p in prefixes]
    return xml_response(render("ListVersionsResult", head + versions + common))  # type: ignore[arg-type]


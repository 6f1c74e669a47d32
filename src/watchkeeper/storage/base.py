"""The object-storage interface: `s3://bucket/key` URIs, one small Protocol, and its errors.

    StorageError        `.permanent`: retrying the same request cannot succeed (False: an outage, a 5xx, a timeout)
    ├── InvalidUri      the text is not an `s3://bucket[/key]` URI
    ├── InvalidKey      a well-formed URI this store cannot hold (escapes the folder, too long, a "folder")
    └── NoSuchKey       reading an object that does not exist
        └── NoSuchBucket    ... because its bucket does not exist (S3-compatible stores only)

Listing is by string prefix, as in S3: `s3://b/data/tr` lists `data/train.csv` and `data/tree/x`, in key
order (UTF-8 byte order, which is also Python's `str` order).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple, Protocol, runtime_checkable

# S3's own limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Legacy S3 bucket names (us-east-1) allow upper case and underscores; newer ones are a subset.
# Always starts with a letter or digit, so "." and ".." can never be a bucket.
_BUCKET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


class StorageError(Exception):
    """Anything the object store could not do; the message names the URI and what to do.

    `permanent` is True when the same request can never succeed as it is (a key the store refuses, a
    missing bucket, access denied): callers that retry (the capture writer) give up on it at once.
    Connection errors, 5xx answers and timeouts are not permanent."""

    permanent: bool = False

    def __init__(self, *args: object, permanent: bool | None = None) -> None:
        super().__init__(*args)
        if permanent is not None:
            self.permanent = permanent


class InvalidUri(StorageError, ValueError):
    """The text is not an `s3://bucket[/key]` URI."""

    permanent = True


class InvalidKey(StorageError, ValueError):
    """A well-formed URI whose key this store refuses (it would escape the store's folder, etc.)."""

    permanent = True


class NoSuchKey(StorageError, LookupError):
    """No object at this URI."""

    permanent = True


class NoSuchBucket(NoSuchKey):
    """The URI's bucket does not exist (the embedded store has every bucket, so only S3 raises this)."""


class S3Location(NamedTuple):
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    uri: str
    size: int
    # Seconds since the epoch, UTC (the same unit as `watchkeeper.clock.Clock.now()`).
    last_modified: float


def parse_s3_uri(uri: str) -> S3Location:
    """Split `s3://bucket/key` into bucket and key. The key may be empty (`s3://bucket` or `s3://bucket/`)."""
    if not isinstance(uri, str):
        raise InvalidUri(f"expected an s3:// URI string, got {type(uri).__name__}")
    if not uri.startswith("s3://"):
        raise InvalidUri(f"{uri!r} is not an S3 URI: it must start with 's3://' (e.g. s3://my-bucket/prefix)")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise InvalidUri(f"{uri!r} has no bucket name: expected s3://BUCKET/KEY")
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise InvalidUri(
            f"{uri!r}: {bucket!r} is not a valid bucket name (letters, digits, '.', '-', '_'; "
            "starting with a letter or digit; at most 255 characters)"
        )
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(f"{uri!r}: the key is longer than S3's limit of {MAX_KEY_BYTES} UTF-8 bytes")
    return S3Location(bucket, key)


def parse_object_uri(uri: str) -> S3Location:
    """Like `parse_s3_uri`, for URIs that must name one object (non-empty key, not ending in '/')."""
    loc = parse_s3_uri(uri)
    if not loc.key or loc.key.endswith("/"):
        raise InvalidKey(f"{uri!r} names a folder, not an object: add the object's key after the bucket")
    return loc


def join_uri(base: str, *parts: str) -> str:
    """`join_uri("s3://b/p/", "x", "y.jsonl")` → `s3://b/p/x/y.jsonl` (one '/' between parts)."""
    out = base.rstrip("/")
    for part in parts:
        out += "/" + part.strip("/")
    return out


def relative_path_parts(key: str, what: str) -> list[str]:
    """Split a key (or a key suffix) into path segments that cannot leave the folder they are joined to.

    Refuses, with a message naming `what`: empty segments (`a//b`, a leading '/', i.e. an absolute path),
    '.' and '..', NUL and other control characters, backslashes (a Windows separator: `..\\x`), and
    segments longer than a file name may be. Used for the embedded store and for downloads.
    """
    parts = key.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidKey(
                f"{what}: key {key!r} has an empty, '.' or '..' path segment; "
                "keys must be relative paths without '//', a leading '/', '.' or '..'"
            )
        if "\\" in part:
            raise InvalidKey(f"{what}: key {key!r} contains a backslash, which this store does not accept")
        if any(ord(c) < 0x20 or c == "\x7f" for c in part):
            raise InvalidKey(f"{what}: key {key!r} contains NUL or another control character")
        if len(part.encode("utf-8", "surrogatepass")) > 255:
            raise InvalidKey(f"{what}: key {key!r} has a path segment longer than 255 bytes")
    return parts


@runtime_checkable
class ObjectStore(Protocol):
    """Whole-object storage addressed by `s3://bucket/key` URIs."""

    def put_bytes(self, uri: str, data: bytes) -> None:
        """Store `data` at `uri`, replacing any object there. Readers see the old object or the new one,
        never a part."""
        ...

    def put_file(self, uri: str, source: str | os.PathLike[str] | BinaryIO) -> None:
        """Store a local file (a path, or a binary file object open at its start) at `uri`, streamed: memory
        stays bounded whatever the size. Same atomicity as `put_bytes`."""
        ...

    def get_bytes(self, uri: str) -> bytes:
        """The whole object; `NoSuchKey` if there is none."""
        ...

    def open_read(self, uri: str) -> BinaryIO:
        """A binary file-like object streaming the object (use it as a context manager);
        `NoSuchKey` if there is none."""
        ...

    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with the URI's key, in key order."""
        ...

    def exists(self, uri: str) -> bool: ...

    def delete(self, uri: str) -> None:
        """Remove the object; deleting a missing object is not an error (as in S3)."""
        ...

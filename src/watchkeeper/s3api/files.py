"""Objects as the embedded store keeps them (`ROOT/<bucket>/<key>`, storage/local.py), plus what S3 says
about each that a file cannot hold (ETag, Content-Type, x-amz-meta-*) in a sidecar
`ROOT/.s3meta/<bucket>/<key>.json`. A sidecar is trusted only while the file is the one it was written for
(inode, size, mtime): an object rewritten by another writer (the job runner, the capture writer) gets its
ETag computed again, and cached."""

from __future__ import annotations

import hashlib
import os
import stat as stat_mode
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from watchkeeper.s3api.errors import S3Error
from watchkeeper.storage import InvalidKey, InvalidUri, LocalObjectStore
from watchkeeper.storage.base import MAX_KEY_BYTES

META_DIR = ".s3meta"
TMP_DIR = ".tmp"  # the embedded store's own temporary folder: renames stay on one file system
_CHUNK = 1 << 20


@dataclass
class Meta:
    etag: str  # quoted, as S3 sends it
    content_type: str = "binary/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)  # x-amz-meta-*, Content-Encoding, Cache-Control ...
    checksum: list[str] | None = None  # [header name, value]
    parts: int = 0
    part_sizes: list[int] | None = None  # a multipart object's parts, for GetObject ?partNumber=


@dataclass(frozen=True)
class Stat:
    size: int
    mtime: float
    identity: tuple[int, int, int]  # (inode, size, mtime_ns): which file a sidecar describes


def stat_of(st: os.stat_result) -> Stat:
    return Stat(st.st_size, st.st_mtime, (st.st_ino, st.st_size, st.st_mtime_ns))


def _key_error(key: str, exc: Exception) -> S3Error:
    return S3Error("InvalidArgument", f"Watchkeeper's embedded store cannot hold the key {key!r}: {exc}",
                   ArgumentName="key")


class Files:
    def __init__(self, store: LocalObjectStore) -> None:
        self.store = store
        self.root = store.root
        self.tmp = self.root / TMP_DIR
        self.meta_root = self.root / META_DIR

    def bucket_dir(self, bucket: str) -> Path:
        return self.root / bucket

    def path(self, bucket: str, key: str) -> Path:
        if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise S3Error("KeyTooLongError", "Your key is too long", MaxSizeAllowed=str(MAX_KEY_BYTES))
        if not key or key.endswith("/"):
            raise _key_error(key, ValueError("keys ending in '/' (folder markers) are not kept"))
        try:
            return self.store.path_for(f"s3://{bucket}/{key}")
        except (InvalidKey, InvalidUri) as exc:
            raise _key_error(key, exc) from None

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self.meta_root.joinpath(bucket, *key.split("/")).with_name(key.rsplit("/", 1)[-1] + ".json")

    def temp(self) -> tuple[int, str]:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=self.tmp, prefix="s3-")

    def stat(self, bucket: str, key: str) -> tuple[Path, Stat] | None:
        if key.endswith("/") and len(key.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES:
            return None  # a "folder" key is never an object here: reading it is NoSuchKey, as for any absent key
        path = self.path(bucket, key)
        try:
            st = os.stat(path, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat_mode.S_ISREG(st.st_mode):
            return None
        return path, stat_of(st)

    def commit(self, tmp: str, bucket: str, key: str, meta: Meta) -> Stat:
        """Rename the verified temporary file over the object, then write its sidecar."""
        path = self.path(bucket, key)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        st = stat_of(os.stat(tmp))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise _key_error(key, ValueError("a part of it is already an object, or objects exist under it "
                                             "(the embedded store cannot hold both 'a' and 'a/b')")) from None
        self._write_meta(bucket, key, st, meta)
        return st

    def _write_meta(self, bucket: str, key: str, st: Stat, meta: Meta) -> None:
        target = self._meta_path(bucket, key)
        document = {"identity": list(st.identity), **meta.__dict__}
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix="meta-")
            with os.fdopen(fd, "wb") as f:
                f.write(orjson.dumps(document))
            os.replace(tmp, target)
        except OSError:
            pass  # a sidecar is a cache of what can be recomputed, but Content-Type and metadata

    def meta(self, bucket: str, key: str, path: Path, st: Stat) -> Meta:
        try:
            document: dict[str, Any] = orjson.loads(self._meta_path(bucket, key).read_bytes())
            if tuple(document.pop("identity")) == st.identity:
                return Meta(**document)
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            pass
        digest = hashlib.md5()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        meta = Meta(etag=f'"{digest.hexdigest()}"')
        self._write_meta(bucket, key, st, meta)
        return meta

    def delete(self, bucket: str, key: str) -> None:
        self.store.delete(f"s3://{bucket}/{key}")
        meta = self._meta_path(bucket, key)
        try:
            meta.unlink()
        except OSError:
            return
        stop = self.meta_root / bucket
        parent = meta.parent
        while parent != stop and parent.is_relative_to(stop):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

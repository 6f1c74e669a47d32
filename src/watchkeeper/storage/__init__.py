"""Object storage behind `s3://bucket/key` URIs: the embedded folder by default, any S3-compatible store
when `WATCHKEEPER_S3_ENDPOINT_URL` is set. See `base.py` for the interface and its errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from watchkeeper.config import Settings
from watchkeeper.storage.base import (
    InvalidKey,
    InvalidUri,
    NoSuchBucket,
    NoSuchKey,
    ObjectInfo,
    ObjectStore,
    S3Location,
    StorageError,
    join_uri,
    parse_object_uri,
    parse_s3_uri,
    relative_path_parts,
)
from watchkeeper.storage.local import LocalObjectStore

__all__ = [
    "InvalidKey",
    "InvalidUri",
    "LocalObjectStore",
    "NoSuchBucket",
    "NoSuchKey",
    "ObjectInfo",
    "ObjectStore",
    "S3Location",
    "StorageError",
    "download_prefix",
    "join_uri",
    "open_store",
    "parse_object_uri",
    "parse_s3_uri",
    "upload_dir",
]


def open_store(settings: Settings | None = None) -> ObjectStore:
    """The configured store: S3-compatible when `s3_endpoint_url` is set, else the folder `object_root`."""
    settings = settings or Settings()
    if settings.s3_endpoint_url:
        from watchkeeper.storage.s3 import S3ObjectStore  # boto3 loads only when used

        return S3ObjectStore.from_settings(settings)
    return LocalObjectStore(settings.object_root)


def _relative_key(key: str, prefix: str) -> str:
    """Where an object listed under `prefix` goes, relative to the download folder.

    The prefix is taken as a folder: `data/train` puts `data/train/a/x.csv` at `a/x.csv`. An object whose key
    is the prefix itself (a single-file URI), or that only shares a partial last segment with it
    (`data/train.csv` under `data/train`), keeps its name relative to the prefix's parent: `train.csv`.
    """
    folder = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    if key.startswith(folder):
        return key[len(folder) :]
    return key[prefix.rfind("/") + 1 :]


def download_prefix(store: ObjectStore, uri: str, local_dir: str | os.PathLike[str]) -> list[Path]:
    """Copy every object under `uri` into `local_dir` (streamed), keeping the key layout below the prefix.

    Returns the files written, in key order. A key that would land outside `local_dir` ('..', absolute,
    backslashes, ...) raises `InvalidKey` before anything of it is written.
    """
    loc = parse_s3_uri(uri)
    root = Path(local_dir)
    written: list[Path] = []
    seen: set[str] = set()
    for info in store.list(uri):
        key = parse_s3_uri(info.uri).key
        relative = _relative_key(key, loc.key)
        parts = relative_path_parts(relative, f"downloading {info.uri!r}")
        if relative in seen:
            raise InvalidKey(f"downloading {uri!r}: two objects map to the same file {relative!r}")
        seen.add(relative)
        target = root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.open_read(info.uri) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        written.append(target)
    return written


def upload_dir(store: ObjectStore, local_dir: str | os.PathLike[str], uri: str) -> list[str]:
    """Put every file under `local_dir` at `uri/<relative path>`; returns the URIs written, sorted."""
    parse_s3_uri(uri)
    root = Path(local_dir)
    if not root.is_dir():
        raise StorageError(f"cannot upload {str(root)!r} to {uri!r}: it is not a folder")
    relatives = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    uris: list[str] = []
    for relative in relatives:
        target = join_uri(uri, relative)
        store.put_bytes(target, (root / relative).read_bytes())
        uris.append(target)
    return uris

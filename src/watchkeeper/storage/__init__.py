"""Object storage behind `s3://bucket/key` URIs: the embedded folder by default, any S3-compatible store
when `WATCHKEEPER_S3_ENDPOINT_URL` is set. See `base.py` for the interface and its errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from watchkeeper.config import Settings
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


def __getattr__(name: str) -> Any:
    # The folder store loads when named: importing the package for its URIs and errors (the capture and job
    # readers do, for local paths too) stays light.
    if name == "LocalObjectStore":
        from watchkeeper.storage.local import LocalObjectStore

        return LocalObjectStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(settings: Settings | None = None) -> ObjectStore:
    """The configured store: S3-compatible when `s3_endpoint_url` is set, else the folder `object_root`."""
    from watchkeeper.config import Settings

    settings = settings or Settings()
    if settings.s3_endpoint_url:
        from watchkeeper.storage.s3 import S3ObjectStore  # boto3 loads only when used

        return S3ObjectStore.from_settings(settings)
    from watchkeeper.storage.local import LocalObjectStore

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


def upload_dir(
    store: ObjectStore,
    local_dir: str | os.PathLike[str] | int,
    uri: str,
    *,
    skipped: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Put every regular file under `local_dir` at `uri/<relative path>`, streamed (`put_file`); returns the
    URIs written, sorted.

    `local_dir` is a path (taken as given) or an open folder descriptor (the job runner's, reached without
    following links). Below it nothing is followed: symlinks, FIFOs, devices, sockets and hard links are
    not read, and are appended to `skipped` as (relative path, kind)."""
    from watchkeeper.storage.files import walk_files

    parse_s3_uri(uri)
    if isinstance(local_dir, int):
        folder = os.dup(local_dir)
    else:
        try:
            folder = os.open(local_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            raise StorageError(f"cannot upload {str(local_dir)!r} to {uri!r}: it is not a folder") from None
    uris: list[str] = []
    try:
        for relative, fd in walk_files(folder, skipped):
            target = join_uri(uri, relative)
            with os.fdopen(fd, "rb") as source:
                store.put_file(target, source)
            uris.append(target)
    finally:
        os.close(folder)
    return sorted(uris)

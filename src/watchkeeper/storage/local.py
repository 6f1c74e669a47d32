"""The embedded object store: `s3://BUCKET/KEY` is the file `ROOT/BUCKET/KEY` (ROOT = DATA_DIR/s3).

- Every bucket exists; a put creates the folders it needs, a delete removes the folders it empties.
- Keys are relative paths: empty, '.' and '..' segments, a leading '/', NUL and other control characters,
  and backslashes are refused (`InvalidKey`), as is any path that resolves outside ROOT through a symlink.
- Writes go to a temporary file in `ROOT/.tmp` (never a bucket: bucket names start with a letter or
  digit), are fsync'd, then renamed over the target, so readers see the old object or the new one.
- A key cannot be both an object and a "folder" of other objects (`a` and `a/b`): S3 allows it, a file
  system does not; the second put raises `InvalidKey`.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from watchkeeper.storage.base import (
    InvalidKey,
    NoSuchKey,
    ObjectInfo,
    S3Location,
    StorageError,
    parse_object_uri,
    parse_s3_uri,
    relative_path_parts,
)

_TMP_DIR = ".tmp"
_CHUNK = 1 << 20
# Write errors that retrying cannot cure (no permission, read-only file system, a name too long);
# a full disk or an I/O error may clear.
_PERMANENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG})


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class LocalObjectStore:
    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self._real_root = os.path.realpath(self.root)
        self._tmp = self.root / _TMP_DIR
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._file_mode = 0o666 & ~_current_umask()

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------------------------

    def path_for(self, uri: str) -> Path:
        """The file that holds the object at `uri` (validated: it is inside ROOT)."""
        loc = parse_object_uri(uri)
        return self._path(loc, relative_path_parts(loc.key, uri))

    def _path(self, loc: S3Location, parts: list[str]) -> Path:
        path = self.root.joinpath(loc.bucket, *parts)
        real = os.path.realpath(path)
        if not real.startswith(self._real_root + os.sep):
            raise InvalidKey(f"{loc.uri!r} resolves outside the store's folder {str(self.root)!r} (symlink?)")
        return path

    # -- ObjectStore -------------------------------------------------------------------------------------

    def put_bytes(self, uri: str, data: bytes) -> None:
        self._put(uri, lambda f: f.write(data))

    def put_file(self, uri: str, source: str | os.PathLike[str] | BinaryIO) -> None:
        """Copied in 1 MB chunks to a temporary file, then renamed over the target."""

        start = None if isinstance(source, (str, os.PathLike)) or not source.seekable() else source.tell()

        def copy(f: BinaryIO) -> None:
            if isinstance(source, (str, os.PathLike)):
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, f, _CHUNK)
                return
            if start is not None:
                source.seek(start)  # a retried write starts over
            shutil.copyfileobj(source, f, _CHUNK)

        self._put(uri, copy)

    def _put(self, uri: str, write: Callable[[BinaryIO], object]) -> None:
        path = self.path_for(uri)
        for attempt in range(3):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._write_and_rename(path, write)
                return
            except FileNotFoundError as exc:
                # A concurrent delete pruned the folder between mkdir and rename (or .tmp was removed).
                if attempt == 2:
                    raise StorageError(f"cannot write {uri!r} at {str(path)!r}: {exc}") from exc
                self._tmp.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise InvalidKey(
                    f"cannot put {uri!r}: a part of its key is already an object in this store "
                    "(the embedded store cannot hold both 'a' and 'a/b')"
                ) from None
            except IsADirectoryError:
                raise InvalidKey(
                    f"cannot put {uri!r}: other objects exist under '{uri}/' "
                    "(the embedded store cannot hold both 'a' and 'a/b')"
                ) from None
            except OSError as exc:  # disk full, permissions, ...
                raise StorageError(
                    f"cannot write {uri!r} at {str(path)!r}: {exc.strerror or exc}",
                    permanent=exc.errno in _PERMANENT_ERRNOS,
                ) from exc

    def _write_and_rename(self, path: Path, write: Callable[[BinaryIO], object]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), self._file_mode)
                write(f)  # type: ignore[arg-type]
                if self._fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get_bytes(self, uri: str) -> bytes:
        with self.open_read(uri) as f:
            return f.read()

    def open_read(self, uri: str) -> BinaryIO:
        path = self.path_for(uri)
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NoSuchKey(f"no object at {uri!r}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {uri!r} at {str(path)!r}: {exc.strerror or exc}") from exc

    def exists(self, uri: str) -> bool:
        return self.path_for(uri).is_file()

    def delete(self, uri: str) -> None:
        loc = parse_object_uri(uri)
        path = self._path(loc, relative_path_parts(loc.key, uri))
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        # S3 has no folders: remove the ones this delete emptied, up to the bucket.
        bucket_dir = self.root / loc.bucket
        parent = path.parent
        while parent != bucket_dir:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def list(self, prefix_uri: str) -> Iterator[ObjectInfo]:
        loc = parse_s3_uri(prefix_uri)
        dir_part, sep, name_prefix = loc.key.rpartition("/")
        parts = relative_path_parts(dir_part, prefix_uri) if sep else []
        if name_prefix not in ("", ".", ".."):
            relative_path_parts(name_prefix, prefix_uri)  # refuses NUL, backslashes, ...
        start = self._path(loc, parts) if parts else self.root / loc.bucket
        key_prefix = f"s3://{loc.bucket}/" + (dir_part + "/" if dir_part else "")
        return self._walk(start, key_prefix, name_prefix)

    def _walk(self, folder: Path | str, uri_prefix: str, name_prefix: str) -> Iterator[ObjectInfo]:
        try:
            with os.scandir(folder) as it:
                entries = []
                for entry in it:
                    if not entry.name.startswith(name_prefix) or entry.is_symlink():
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        # Sorting "name/" among file names gives the keys' order: "a-b" < "a/x" < "a0".
                        entries.append((entry.name + "/", entry))
                    elif entry.is_file(follow_symlinks=False):
                        entries.append((entry.name, entry))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise StorageError(f"cannot list {uri_prefix!r} ({folder}): {exc.strerror or exc}") from exc
        entries.sort(key=lambda pair: pair[0])
        for sort_name, entry in entries:
            if sort_name.endswith("/"):
                yield from self._walk(entry.path, uri_prefix + sort_name, "")
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # deleted while listing
                continue
            yield ObjectInfo(uri_prefix + entry.name, st.st_size, st.st_mtime)

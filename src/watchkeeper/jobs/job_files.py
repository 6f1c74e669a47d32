"""Reading a finished job's folder back without trusting anything the job left in it.

The server (often root) reads, uploads and deletes in a folder that user code wrote. After the job (its whole
process tree is dead and its folder closed to the job user), every path is opened one component at a time
from a descriptor of the job's own `opt/ml`, each with O_NOFOLLOW: a symlink anywhere on the way, or a path
with '..', is refused, so nothing outside the folder is ever reached, whatever the job planted. Files are
opened with O_NOFOLLOW | O_NONBLOCK and checked with fstat: only regular files with one link are read (a
FIFO cannot block the runner, a device or socket is never read, a hard link to a host file is not taken).
Every entry passed over is counted, and the runner says which in the job log.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from watchkeeper.jobs.contract import CONTAINER_PREFIX
from watchkeeper.storage.files import DIR_FLAGS, kind_of, open_regular

MESSAGE_LIMIT = 1024  # bytes of /opt/ml/output/message (SageMaker's ExitMessage/FailureReason are 1024 long)
VIOLATIONS_LIMIT = 64 * 1024 * 1024  # bytes of a custom analyzer's constraint_violations.json


class Skipped(list[tuple[str, str]]):
    """(path, kind) of every entry the server passed over, e.g. ("/opt/ml/output/message", "symlink")."""

    def add(self, path: str, kind: str) -> None:
        if (path, kind) not in self:
            self.append((path, kind))

    def note(self, shown: int = 20) -> str | None:
        """One job-log line, or None when nothing was skipped."""
        if not self:
            return None
        listed = ", ".join(f"{path} ({kind})" for path, kind in self[:shown])
        more = f" and {len(self) - shown} more" if len(self) > shown else ""
        return f"skipped {len(self)} entries that are not regular files: {listed}{more}"


def read_fd(fd: int, limit: int) -> bytes:
    """At most `limit` bytes from an open file (closes it)."""
    with os.fdopen(fd, "rb") as f:
        return f.read(limit)


class JobFiles:
    """A finished job's `opt/ml`, reached only through descriptors. Use as a context manager."""

    def __init__(self, root: Path, skipped: Skipped | None = None) -> None:
        """`root`: the job's folder as the server made it (its parents are the server's own folders)."""
        self.skipped = skipped if skipped is not None else Skipped()
        base = os.open(root, DIR_FLAGS)
        try:
            for name in ("opt", "ml"):
                inner = os.open(name, DIR_FLAGS, dir_fd=base)
                os.close(base)
                base = inner
        except OSError:
            os.close(base)
            raise
        self._base = base

    def close(self) -> None:
        if self._base >= 0:
            os.close(self._base)
            self._base = -1

    def __enter__(self) -> JobFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- paths -----------------------------------------------------------------------------------

    @staticmethod
    def parts(container_path: str) -> list[str] | None:
        """The components of a container path below /opt/ml; None if it is not below it or has '..'."""
        if container_path.rstrip("/") == CONTAINER_PREFIX.rstrip("/"):
            return []
        if not container_path.startswith(CONTAINER_PREFIX):
            return None
        parts = [p for p in container_path[len(CONTAINER_PREFIX) :].split("/") if p not in ("", ".")]
        return None if ".." in parts else parts

    def _open_dir(self, parts: list[str]) -> int | None:
        """A descriptor of the folder at `parts` (below opt/ml), or None (recorded when it is something else
        than a folder: a symlink planted on the way)."""
        fd = os.dup(self._base)
        for index, name in enumerate(parts):
            try:
                inner = os.open(name, DIR_FLAGS, dir_fd=fd)
            except (FileNotFoundError, PermissionError):
                os.close(fd)
                return None
            except OSError:  # ELOOP (a symlink), ENOTDIR (a file, a FIFO...)
                try:
                    kind = kind_of(os.lstat(name, dir_fd=fd).st_mode) or "file"
                except OSError:
                    kind = "unreadable"
                os.close(fd)
                self.skipped.add(CONTAINER_PREFIX + "/".join(parts[: index + 1]), kind)
                return None
            os.close(fd)
            fd = inner
        return fd

    @contextmanager
    def folder(self, container_path: str) -> Iterator[int | None]:
        """The folder at a container path as a descriptor (None when it is missing or not a real folder)."""
        parts = self.parts(container_path)
        fd = None if parts is None else self._open_dir(parts)
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    # --- reading and removing --------------------------------------------------------------------

    def read(self, container_path: str, limit: int) -> bytes | None:
        """Up to `limit` bytes of a regular file at a container path; None (and recorded) when it is anything
        else, None when it does not exist."""
        fd = self.open(container_path)
        return None if fd is None else read_fd(fd, limit)

    def open(self, container_path: str) -> int | None:
        parts = self.parts(container_path)
        if not parts:
            return None
        with self.folder(CONTAINER_PREFIX + "/".join(parts[:-1])) as parent:
            if parent is None:
                return None
            fd, kind = open_regular(parts[-1], parent)
        if kind:
            self.skipped.add(CONTAINER_PREFIX + "/".join(parts), kind)
        return fd

    def open_file(self, container_path: str) -> BinaryIO | None:
        fd = self.open(container_path)
        return None if fd is None else os.fdopen(fd, "rb")

    def remove(self, container_path: str) -> None:
        """Delete what is at a container path (a folder with all it holds), never through a symlink: a
        symlink there is removed itself, not what it points at."""
        parts = self.parts(container_path)
        if not parts:
            return
        with self.folder(CONTAINER_PREFIX + "/".join(parts[:-1])) as parent:
            if parent is None:
                return
            try:
                info = os.lstat(parts[-1], dir_fd=parent)
            except OSError:
                return
            if stat.S_ISDIR(info.st_mode):
                # With dir_fd, rmtree works through descriptors and never follows a link inside.
                shutil.rmtree(parts[-1], dir_fd=parent, ignore_errors=True)
            else:
                try:
                    os.unlink(parts[-1], dir_fd=parent)
                except OSError:
                    pass

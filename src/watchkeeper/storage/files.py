"""Local files read without following links: what the server uses on folders that user code wrote.

`open_regular` opens one entry of a folder given by descriptor only if it is a regular file with a single
link: never a symlink (O_NOFOLLOW), a FIFO (O_NONBLOCK, and it is not even opened), a device or a socket, and
not a hard link (which could be a host file). `walk_files` lists a folder tree the same way, through
descriptors, so a symlinked folder inside it is never entered.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def kind_of(mode: int, links: int = 1) -> str | None:
    """What an entry is when it is not a plain regular file (None when it is)."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    if not stat.S_ISREG(mode):
        return "special file"
    if links > 1:
        return "hard link"
    return None


def open_regular(name: str, dir_fd: int) -> tuple[int | None, str | None]:
    """(fd, None) for a regular, singly linked file `name` in `dir_fd`, else (None, what it is instead);
    (None, None) when there is no such entry. lstat first (a device is never opened), fstat after (the entry
    cannot have been swapped in between unnoticed)."""
    try:
        before = os.lstat(name, dir_fd=dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    kind = kind_of(before.st_mode, before.st_nlink)
    if kind:
        return None, kind
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, None
    except OSError:
        return None, "unreadable"
    after = os.fstat(fd)
    kind = kind_of(after.st_mode, after.st_nlink)
    if kind or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        return None, kind or "replaced"
    return fd, None


def walk_files(folder_fd: int, skipped: list[tuple[str, str]] | None = None) -> Iterator[tuple[str, int]]:
    """(relative path, open descriptor) of every regular file below a folder, in sorted path order; the
    caller closes each descriptor. Anything else (symlinks, FIFOs, devices, sockets, hard links) is appended
    to `skipped` as (relative path, kind) and not opened."""
    yield from _walk(folder_fd, "", skipped if skipped is not None else [])


def _walk(folder_fd: int, prefix: str, skipped: list[tuple[str, str]]) -> Iterator[tuple[str, int]]:
    with os.scandir(folder_fd) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        relative = prefix + name
        try:
            info = os.lstat(name, dir_fd=folder_fd)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            try:
                inner = os.open(name, DIR_FLAGS, dir_fd=folder_fd)
            except OSError:
                skipped.append((relative, "unreadable"))
                continue
            try:
                if (os.fstat(inner).st_dev, os.fstat(inner).st_ino) != (info.st_dev, info.st_ino):
                    skipped.append((relative, "replaced"))
                    continue
                yield from _walk(inner, relative + "/", skipped)
            finally:
                os.close(inner)
            continue
        fd, kind = open_regular(name, folder_fd)
        if kind:
            skipped.append((relative, kind))
        if fd is not None:
            yield relative, fd

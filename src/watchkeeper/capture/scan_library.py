"""`scan.c` as a shared library: compiled once per machine with the system's C compiler, loaded with ctypes.

The library is built on first use into a cache folder of this user's own (`$XDG_CACHE_HOME/watchkeeper`,
else `~/.cache/watchkeeper`, else `watchkeeper-<uid>` in the temporary folder), named by a hash of the
source, the compiler and its flags, so that a changed source or compiler builds anew and concurrent
builders (worker processes) never see a half-written file. A library runs as this process, so nobody
else may be able to choose it: the folder must be a real folder (not a link) owned by this user and
writable by nobody else, the library a regular file of the same kind, and everything after the check goes
through the descriptors that were checked (the folder's for the build, the file's for the load), so a path
swapped in between is never followed.

A processing job never builds it, nor loads one from a folder it could write to (a job's code runs as the
job user, and a library left there would run in the next job): the runner copies the server's build into
the job's read-only config folder and names it in `WATCHKEEPER_SCAN_LIBRARY` (`jobs/scan_binding.py`); a job
without it reads by the polars pass.

Without a C compiler, or when the build fails, `functions()` is None and capture is read by the polars
route alone (slower on large inputs, the same results). `WATCHKEEPER_COMPILED_SCAN=0` turns it off.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("scan.c")
FLAGS = ("-O2", "-shared", "-fPIC")
BUILD_TIMEOUT_S = 120


class ScanFunctions(NamedTuple):
    scan: ctypes._CFuncPtr  # watchkeeper_scan
    compact: ctypes._CFuncPtr  # watchkeeper_compact
    lines: ctypes._CFuncPtr  # watchkeeper_lines


_lock = threading.Lock()
_loaded: list[ScanFunctions | None] = []  # empty until the first call; then the functions, or None
_failed_builds: dict[str, str] = {}  # library name -> why its build failed, in this process
_warned: set[str] = set()


def functions() -> ScanFunctions | None:
    """The library's functions (built on the first call), or None when they cannot be had."""
    if os.environ.get("WATCHKEEPER_COMPILED_SCAN", "1") == "0":
        return None
    if not _loaded:
        with _lock:
            if not _loaded:
                _loaded.append(_load())
    return _loaded[0]


def copy_library(destination: Path) -> bool:
    """A copy of the built library (built now if needed) at `destination`, readable by all and writable by
    this user only, for the job runner to hand to a job; False when it cannot be had (logged once per
    reason: the runner asks for every job)."""
    try:
        with _library() as (folder, name):
            descriptor = _checked(folder, name)
        with os.fdopen(descriptor, "rb") as library, destination.open("wb") as copy:
            shutil.copyfileobj(library, copy)
        destination.chmod(0o644)
    except (OSError, subprocess.SubprocessError) as error:
        if str(error) not in _warned:
            _warned.add(str(error))
            log.warning("the compiled capture scan is not available (%s); jobs read capture by the polars route "
                        "alone", error)
        return False
    return True


def compiler() -> str | None:
    """The C compiler the library is built with: `$CC`, else cc, gcc or clang on PATH."""
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def _load() -> ScanFunctions | None:
    given = os.environ.get("WATCHKEEPER_SCAN_LIBRARY")
    if not given and os.environ.get("WATCHKEEPER_JOB_ROOT"):
        return None  # in a processing job: only the library the runner gave
    try:
        if given:
            library = ctypes.CDLL(given)
        else:
            with _library() as (folder, name):
                descriptor = _checked(folder, name)
            try:
                library = ctypes.CDLL(f"/proc/self/fd/{descriptor}")  # the very file checked
            finally:
                os.close(descriptor)
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("the compiled capture scan is not available (%s); capture is read by the polars route alone",
                    error)
        return None
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    scan = library.watchkeeper_scan
    scan.argtypes = [ctypes.c_char_p, size, pointer, pointer, size, pointer, pointer, size, pointer, pointer]
    scan.restype = size
    compact = library.watchkeeper_compact
    compact.argtypes = [pointer, size, ctypes.c_char_p, pointer]
    compact.restype = None
    lines = library.watchkeeper_lines
    lines.argtypes = [ctypes.c_char_p, size]
    lines.restype = size
    return ScanFunctions(scan, compact, lines)


@contextmanager
def _library() -> Iterator[tuple[Path, str]]:
    """The cache folder, as `/proc/self/fd/N` of a descriptor checked to be private (open while in the
    block), and the library's name in it, built there first when missing."""
    command = compiler()
    if not command:
        raise OSError("no C compiler (cc, gcc or clang) on PATH")
    name = _library_name(command)
    if name in _failed_builds:  # a source this compiler cannot build is not tried again for every job
        raise OSError(_failed_builds[name])
    descriptor = _private_folder()
    try:
        try:
            os.stat(name, dir_fd=descriptor, follow_symlinks=False)
        except FileNotFoundError:
            try:
                _build(command, descriptor, name)
            except (OSError, subprocess.SubprocessError) as error:
                _failed_builds[name] = str(error)
                raise
        yield Path(f"/proc/self/fd/{descriptor}"), name
    finally:
        os.close(descriptor)


@functools.lru_cache(maxsize=8)
def _library_name(compiler: str) -> str:
    """The library's file name: a hash of the source, the compiler's version and the flags (asked once per
    process: the runner asks for every built-in job)."""
    version = subprocess.run([compiler, "--version"], capture_output=True, timeout=30, check=True).stdout
    return f"scan-{hashlib.sha256(SOURCE.read_bytes() + version + ' '.join(FLAGS).encode()).hexdigest()[:20]}.so"


def _build(compiler: str, folder: int, name: str) -> None:
    """Compile into a fresh private temporary folder, then write the library into `folder` (a descriptor)
    under a temporary name and rename it: another process sees no library or a whole one."""
    with tempfile.TemporaryDirectory(prefix="watchkeeper-build-") as scratch:
        built = Path(scratch) / name
        result = subprocess.run([compiler, *FLAGS, "-o", str(built), str(SOURCE)], capture_output=True, text=True,
                                timeout=BUILD_TIMEOUT_S)
        if result.returncode != 0:
            raise OSError(f"{compiler} failed: {result.stderr.strip()[:500]}")
        partial = f".{name}.{os.getpid()}.{threading.get_ident()}"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(built.read_bytes())
            os.replace(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(partial, dir_fd=folder)
    log.info("built the compiled capture scan: %s", name)


def _checked(folder: Path, name: str) -> int:
    """A descriptor of the library, checked: a regular file (not a link) of this user's that nobody else can
    write to."""
    descriptor = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW)
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o022:
        os.close(descriptor)
        raise PermissionError(f"{name} is not a private regular file of this user")
    return descriptor


def _private_folder() -> int:
    """A descriptor of this user's cache folder for the library, created private; a link, or a folder of
    another user's or that others can write to, is refused."""
    home = os.environ.get("XDG_CACHE_HOME") or _home_cache()
    candidates = ([Path(home) / "watchkeeper"] if home else []) + \
        [Path(tempfile.gettempdir()) / f"watchkeeper-{os.getuid()}"]
    problems = []
    for folder in candidates:
        try:
            folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with suppress(FileExistsError):
                folder.mkdir(mode=0o700)
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            problems.append(f"{folder}: {error}")
            continue
        status = os.fstat(descriptor)
        if status.st_uid == os.getuid() and not status.st_mode & 0o022:
            return descriptor
        os.close(descriptor)
        problems.append(f"{folder}: owned by another user or writable by others")
    raise PermissionError("no private cache folder for the compiled capture scan: " + "; ".join(problems))


def _home_cache() -> Path | None:
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no password entry
        return None
    return home / ".cache" if home.is_dir() else None

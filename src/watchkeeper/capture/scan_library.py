"""`scan.c` as a shared library: compiled once per machine with the system's C compiler, loaded with ctypes.

The library is built on first use into a cache directory of this user's own (`$XDG_CACHE_HOME/watchkeeper`,
else `~/.cache/watchkeeper`, else a per-user folder under the temporary directory), named by a hash of the
source, the compiler and its flags, so that a changed source or compiler builds anew and concurrent
builders (worker processes) never see a half-written file. A directory that another user could write to
is refused: a library loaded from it runs as this process.

A processing job never builds it, nor loads one from a folder it could write to (a job's code runs as the
job user, and a library left there would run in the next job): the runner copies the server's build into
the job's read-only config folder and names it in `WATCHKEEPER_SCAN_LIBRARY` (`jobs/scan_binding.py`); a job
without it reads by the polars pass.

Without a C compiler, or when the build fails, `scan_function()` is None and capture is read by the polars
route alone (slower on large inputs, the same results). `WATCHKEEPER_COMPILED_SCAN=0` turns it off.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("scan.c")
FLAGS = ("-O2", "-shared", "-fPIC")
BUILD_TIMEOUT_S = 120

_lock = threading.Lock()
_loaded: list[Callable | None] = []  # empty until the first call; then the function, or None


def scan_function() -> Callable | None:
    """`watchkeeper_scan` of the library (built on the first call), or None when it cannot be had."""
    if os.environ.get("WATCHKEEPER_COMPILED_SCAN", "1") == "0":
        return None
    if not _loaded:
        with _lock:
            if not _loaded:
                _loaded.append(_load())
    return _loaded[0]


def library_path() -> Path | None:
    """The built library (built now if needed), for the job runner to hand to jobs; None when it cannot be
    built (logged once per call)."""
    try:
        return _built()
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("the compiled capture scan cannot be built (%s); jobs read capture by the polars route alone",
                    error)
        return None


def _load() -> Callable | None:
    given = os.environ.get("WATCHKEEPER_SCAN_LIBRARY")
    if not given and os.environ.get("WATCHKEEPER_JOB_ROOT"):
        return None  # in a processing job: only the library the runner gave
    try:
        library = ctypes.CDLL(given or str(_built()))
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("the compiled capture scan is not available (%s); capture is read by the polars route alone",
                    error)
        return None
    function = library.watchkeeper_scan
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    function.argtypes = [ctypes.c_char_p, size, pointer, pointer, size, pointer, pointer, size, pointer, pointer]
    function.restype = size
    return function


def _built() -> Path:
    """The library's path, building it first when this source and compiler have no library yet."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not compiler:
        raise OSError("no C compiler (cc, gcc or clang) on PATH")
    version = subprocess.run([compiler, "--version"], capture_output=True, timeout=30, check=True).stdout
    key = hashlib.sha256(SOURCE.read_bytes() + version + " ".join(FLAGS).encode()).hexdigest()[:20]
    folder = _cache_folder()
    library = folder / f"scan-{key}.so"
    if library.exists():
        return library
    handle, partial = tempfile.mkstemp(dir=folder, prefix=".scan-", suffix=".so")
    os.close(handle)
    try:
        result = subprocess.run([compiler, *FLAGS, "-o", partial, str(SOURCE)], capture_output=True, text=True,
                                timeout=BUILD_TIMEOUT_S)
        if result.returncode != 0:
            raise OSError(f"{compiler} failed: {result.stderr.strip()[:500]}")
        os.replace(partial, library)  # atomic: another process sees no library or a whole one
    finally:
        Path(partial).unlink(missing_ok=True)
    log.info("built the compiled capture scan: %s", library)
    return library


def _home_cache() -> Path | None:
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no password entry
        return None
    return home / ".cache" if home.is_dir() else None


def _cache_folder() -> Path:
    """This user's cache folder for the library, created private; refused if anyone else can write to it."""
    home = os.environ.get("XDG_CACHE_HOME") or _home_cache()
    candidates = ([Path(home) / "watchkeeper"] if home else []) + \
        [Path(tempfile.gettempdir()) / f"watchkeeper-{os.getuid()}"]
    problems = []
    for folder in candidates:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            status = folder.stat()
        except OSError as error:
            problems.append(f"{folder}: {error}")
            continue
        if status.st_uid != os.getuid() or status.st_mode & 0o022:
            problems.append(f"{folder}: owned by another user or writable by others")
            continue
        return folder
    raise PermissionError("no private cache folder for the compiled capture scan: " + "; ".join(problems))

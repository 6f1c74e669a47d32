"""User code sealed off: how every job process is started (docs/security.md, "User code, sealed off").

Every job process (the built-in worker, which runs record pre-processor and post-analytics scripts
in-process, and every `ContainerEntrypoint` command) starts under `launch.py`, which applies the resource
limits, drops to the job uid/gid when the server is root, and takes the whole process tree down with it.
With bubblewrap the launcher runs inside a minimal root: system folders and the Python installation
read-only, the job's folder at `/opt/ml`, a private /tmp, its own pid namespace, no network unless the job
turns network isolation off, and the data folder, database and auth file nowhere in sight.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.config import Settings
from watchkeeper.jobs.contract import METRICS_DIR, JobRoot

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("launch.py")
MODES = ("auto", "bwrap", "none")
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Stop/timeout: the launcher gets SIGTERM, the tree at most this long to exit, then SIGKILL.
GRACE_SECONDS = 3.0


class SandboxUnavailable(Exception):
    """WATCHKEEPER_SANDBOX=bwrap and bubblewrap cannot run here: jobs fail rather than run unsealed."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int
    memory_mb: int
    file_size_mb: int
    open_files: int
    processes: int

    def arguments(self) -> list[str]:
        return [
            f"--cpu-seconds={self.cpu_seconds}",
            f"--memory-mb={self.memory_mb}",
            f"--file-size-mb={self.file_size_mb}",
            f"--open-files={self.open_files}",
            f"--processes={self.processes}",
        ]


@functools.lru_cache(maxsize=4)
def bwrap_problem(bwrap: str | None, as_root: bool) -> str | None:
    """Why bubblewrap cannot run here (not installed, no namespaces in this container...), or None."""
    if not bwrap:
        return "bwrap is not installed (Debian package bubblewrap)"
    namespaces = ["--unshare-pid", "--unshare-net"] if as_root else ["--unshare-all"]
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", *namespaces, "--die-with-parent", "--", "true"],
            capture_output=True,
            timeout=20,
            env={"PATH": CONTAINER_PATH},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} cannot start: {exc}"
    if done.returncode != 0:
        return f"{bwrap} fails here: {done.stderr.decode(errors='replace').strip()[:300]}"
    return None


@functools.lru_cache(maxsize=4)
def bwrap_has_size(bwrap: str) -> bool:
    """Whether this bubblewrap sizes a tmpfs (`--size`, bubblewrap 0.5 and later)."""
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, timeout=20, env={"PATH": CONTAINER_PATH})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--size" in done.stdout + done.stderr


@dataclass(frozen=True)
class Sandbox:
    mode: str  # "bwrap" or "none"; "refused" when bwrap is required and unusable
    uid: int | None  # the job user when the server is root, else None (jobs run as the server's user)
    gid: int | None
    limits: Limits
    data_dir: Path
    hidden: tuple[Path, ...]  # never visible to a job: data folder, database files, auth file
    why_not_bwrap: str | None = None
    bwrap: str = "/usr/bin/bwrap"

    @classmethod
    def from_settings(
        cls, settings: Settings, *, data_dir: Path | None = None, database_url: str | None = None
    ) -> Sandbox:
        wanted = settings.sandbox.strip().lower() or "auto"
        if wanted not in MODES:
            raise ValueError(f"WATCHKEEPER_SANDBOX must be one of {', '.join(MODES)}, not {settings.sandbox!r}")
        as_root = os.geteuid() == 0
        bwrap = shutil.which("bwrap") or (os.path.exists("/usr/bin/bwrap") and "/usr/bin/bwrap") or None
        problem = None if wanted == "none" else bwrap_problem(bwrap, as_root)
        mode = "none" if wanted == "none" or (problem and wanted == "auto") else ("refused" if problem else "bwrap")
        data = (data_dir or settings.data_dir).absolute()
        hidden = [data]
        url = database_url if database_url is not None else settings.effective_database_url
        if url.startswith("sqlite:///"):
            db = Path(url.removeprefix("sqlite:///")).absolute()
            hidden += [db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]
            hidden.append(db.with_suffix(".migrate.lock"))
        auth = getattr(settings, "auth_file", "") or os.environ.get("WATCHKEEPER_AUTH_FILE", "")
        if auth:
            hidden.append(Path(auth).absolute())
        limits = Limits(
            settings.job_cpu_seconds,
            settings.job_memory_mb,
            settings.job_file_size_mb,
            settings.job_open_files,
            settings.job_processes,
        )
        return cls(
            mode=mode,
            uid=settings.job_uid if as_root else None,
            gid=settings.job_gid if as_root else None,
            limits=limits,
            data_dir=data,
            hidden=tuple(dict.fromkeys(hidden)),
            why_not_bwrap=problem,
            bwrap=bwrap or "/usr/bin/bwrap",
        )

    # --- at start --------------------------------------------------------------------------------

    def warnings(self) -> list[str]:
        """What does not hold in this mode, to log once when the runner starts."""
        if self.mode == "refused":
            return [
                f"WATCHKEEPER_SANDBOX=bwrap but {self.why_not_bwrap}: every processing job will fail until "
                "bubblewrap works (or WATCHKEEPER_SANDBOX=auto|none)."
            ]
        if self.mode == "bwrap":
            return []
        why = self.why_not_bwrap or "WATCHKEEPER_SANDBOX=none"
        identity = (
            f"jobs run as uid {self.uid}, which cannot read the database or the data folder"
            if self.uid is not None
            else "the server is not root, so jobs run as the server's own user and CAN read its data folder and "
            "database"
        )
        return [
            f"processing jobs run without bubblewrap ({why}): {identity}; they see the host's files (what their "
            "user may read, including other running jobs' folders by name), its network and its processes; a job "
            "that kills its launcher (possible only without a uid drop) can leave processes behind. Scrubbed "
            "environment and resource limits still hold. Install Debian's bubblewrap to seal jobs off "
            "(docs/security.md)."
        ]

    def prepare_data_dir(self, jobs_dir: Path) -> None:
        """Without a uid drop there is nothing to protect by mode bits. With one, the job user may only pass
        through the data folder to its own job folder: no listing, no database, no objects."""
        if self.uid is None:
            return
        jobs_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "s3").mkdir(parents=True, exist_ok=True)
        for folder in (self.data_dir, jobs_dir):
            folder.chmod(0o711)
        for entry in self.data_dir.iterdir():
            if entry.resolve() != jobs_dir.resolve() and not entry.is_symlink():
                entry.chmod(stat.S_IMODE(entry.stat().st_mode) & 0o700)
        for path in self.hidden:
            if path.is_file():
                path.chmod(0o600)

    # --- per job ---------------------------------------------------------------------------------

    def describe(self, network: bool) -> str:
        """One line for the job log."""
        who = f"uid {self.uid}, gid {self.gid}" if self.uid is not None else "the server's user"
        where = (
            f"bubblewrap, {'network' if network else 'no network'}"
            if self.mode == "bwrap"
            else "no bubblewrap"
        )
        limits = self.limits
        return (
            f"{where}; {who}; limits: {limits.cpu_seconds} CPU s, {limits.memory_mb} MB data, "
            f"{limits.file_size_mb} MB per file, {limits.open_files} open files"
        )

    def view(self, root: JobRoot) -> JobRoot:
        """The job's own view of its root: `/` under bubblewrap (`/opt/ml` is bound there, so container
        paths need no rewriting), the host folder otherwise."""
        return JobRoot(Path("/")) if self.mode == "bwrap" else root

    def environment(self, job_environment: Mapping[str, str], view: JobRoot) -> dict[str, str]:
        """The container contract's variables and the job's own Environment; nothing of the server's."""
        base = {
            "PATH": f"{sys.prefix}/bin:{CONTAINER_PATH}",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",  # the code folders are read-only to the job
            "PYTHONUNBUFFERED": "1",  # the job log shows lines as they are printed
        }
        local = {key: view.rewrite(value) for key, value in job_environment.items()}
        local.setdefault("CLOUDWATCH_METRICS_DIRECTORY", str(view.local(METRICS_DIR)))
        local["WATCHKEEPER_JOB_ROOT"] = str(view.root)
        return {**base, **local}

    def hand_over(self, root: JobRoot) -> None:
        """What the job may write becomes the job user's: `/opt/ml/output` (message, metrics) and each folder
        directly in `/opt/ml/processing` (its inputs and outputs: `input/`, `output/`, ...) with all they hold.
        The folders above them (`opt`, `opt/ml`, `opt/ml/processing`) and `opt/ml/config` stay the server's,
        0755, and the log beside `opt` too: a job cannot swap a folder the server later reads or deletes for a
        link (the runner does not follow one anyway: jobs/job_files.py), nor rewrite its config or its log."""
        if self.uid is None or self.gid is None:
            return
        root.root.chmod(0o711)
        ml = root.root / "opt" / "ml"
        for folder in (root.root / "opt", ml, ml / "processing", ml / "config"):
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(0o755)
        for entry in (ml / "config").iterdir():
            if entry.is_file() and not entry.is_symlink():
                entry.chmod(0o644)
        handed = [ml / "output", *(ml / "processing" / name for name in sorted(os.listdir(ml / "processing")))]
        for top in handed:
            if not os.path.lexists(top):
                continue
            os.lchown(top, self.uid, self.gid)
            for folder, dirs, files in os.walk(top):
                for name in (*dirs, *files):
                    os.lchown(os.path.join(folder, name), self.uid, self.gid)

    def take_back(self, root: JobRoot) -> None:
        """After the job: its folder is closed to the job user (a later job runs as the same uid)."""
        if self.uid is not None:
            root.root.chmod(0o700)

    def unreachable(self, paths: Iterable[Path]) -> str | None:
        """Without bubblewrap, a dropped uid needs every folder on the way to its job folder and its
        interpreter to be searchable; say which is not, instead of an obscure exec failure."""
        if self.uid is None or self.mode == "bwrap":
            return None
        for path in paths:
            path = Path(os.path.realpath(path))
            folders = [*reversed(path.parents), *([path] if path.is_dir() else [])]
            for folder in folders:
                info = folder.stat()
                bit = 0o100 if info.st_uid == self.uid else 0o010 if info.st_gid == self.gid else 0o001
                if not info.st_mode & bit:
                    return (
                        f"the job user (uid {self.uid}) cannot reach {path}: {folder} is not searchable by it. "
                        "Install bubblewrap, or make that folder traversable (chmod o+x)"
                    )
        return None

    def command(
        self, inner: list[str], root: JobRoot, *, network: bool, status_fd: int, parent: int, grace: float
    ) -> list[str]:
        """The full command line: [bwrap ...] python -I -S launch.py LIMITS -- INNER."""
        launcher = [
            sys.executable,
            "-I",
            "-S",
            str(LAUNCHER),
            *self.limits.arguments(),
            f"--grace={grace:g}",
            f"--status-fd={status_fd}",
        ]
        if self.uid is not None:
            launcher += [f"--uid={self.uid}", f"--gid={self.gid}"]
        if self.mode != "bwrap":
            return [*launcher, f"--parent={parent}", f"--chdir={root.root}", "--", *inner]
        return [*self._bwrap(root, network), *launcher, "--chdir=/", "--", *inner]

    def _bwrap(self, root: JobRoot, network: bool) -> list[str]:
        args = [self.bwrap]
        # /tmp and /dev/shm live in memory: sized to the job's memory limit (bwrap 0.5+ has --size), not the
        # kernel's default of half the host's RAM. Mounted first: a checkout or venv under /tmp is bound on top
        # of the private /tmp below, where a later tmpfs would hide it.
        size = (
            ["--size", str(self.limits.memory_mb * 1024 * 1024)]
            if self.limits.memory_mb > 0 and bwrap_has_size(self.bwrap)
            else []
        )
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", *size, "--tmpfs", "/dev/shm"]
        args += ["--perms", "1777", *size, "--tmpfs", "/tmp", "--perms", "0755", "--dir", "/opt"]
        for folder in SYSTEM_DIRS:
            if os.path.islink(folder):
                args += ["--symlink", os.readlink(folder), folder]
            elif os.path.isdir(folder):
                args += ["--ro-bind", folder, folder]
        binds = _python_paths()
        made: set[str] = {"/", *SYSTEM_DIRS, "/tmp", "/opt", "/proc", "/dev"}
        for path in binds:
            # bwrap makes missing parents 0700 when their host folder is (e.g. /root): make them traversable
            for parent in reversed(Path(path).parents):
                name = str(parent)
                if name not in made and not _under(name, binds) and not _under(name, SYSTEM_DIRS):
                    args += ["--perms", "0755", "--dir", name]
                    made.add(name)
            args += ["--ro-bind", path, path]
        args += ["--bind", str(root.local("/opt/ml")), "/opt/ml"]
        for path in self.hidden:
            # a hidden path under a bound folder (a data folder inside the checkout, an auth file in /etc)
            if _under(str(path), [*binds, *SYSTEM_DIRS]) and os.path.lexists(path):
                args += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
        if self.uid is not None:
            # root without a user namespace: the uid drop needs real ids; the launcher keeps only these caps
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
            args += [] if network else ["--unshare-net"]
            args += ["--cap-drop", "ALL"]
            for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_KILL"):
                args += ["--cap-add", cap]
        else:
            args += ["--unshare-all"] + (["--share-net"] if network else [])
        return [*args, "--die-with-parent", "--new-session", "--chdir", "/", "--"]


def _under(path: str, folders: Iterable[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


def _python_paths() -> list[str]:
    """What the worker and the launcher need read-only: the Python installation, the venv, every import
    path (an editable checkout's src/), but not the server's working folder (sys.path's '' entry)."""
    import watchkeeper

    package_parent = str(Path(watchkeeper.__file__).resolve().parent.parent)
    cwd = os.getcwd()
    candidates = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), package_parent]
    candidates += [entry for entry in sys.path if entry and entry != cwd]
    paths: list[str] = []
    for candidate in sorted({os.path.abspath(c) for c in candidates if os.path.exists(c)}, key=len):
        if candidate != "/" and not _under(candidate, paths) and not _under(candidate, SYSTEM_DIRS):
            paths.append(candidate)
    return paths


def network_requested(request: Mapping[str, Any]) -> bool:
    """Network only when the job asks: NetworkConfig.EnableNetworkIsolation explicitly false."""
    return (request.get("NetworkConfig") or {}).get("EnableNetworkIsolation") is False

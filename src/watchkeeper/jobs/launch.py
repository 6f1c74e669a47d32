"""The job launcher: `python -I -S launch.py [options] -- COMMAND...`, the parent of every job process.

Standard library only (it must start fast, before and without site-packages). It
- sets PR_SET_PDEATHSIG=SIGTERM, so it cleans up when the server dies (even by kill -9), and
  PR_SET_CHILD_SUBREAPER, so every orphaned descendant (a `setsid` grandchild too) becomes its child;
- forks the command with the resource limits, no supplementary groups, the job's uid/gid and
  PR_SET_NO_NEW_PRIVS (setuid binaries and file capabilities grant nothing);
- when the command exits, or on SIGTERM (stop, timeout, server death), signals every descendant (SIGTERM,
  then SIGKILL after a grace), reaps them all, and only then exits: the job's tree cannot outlive the job;
- writes the command's end ("exit N" / "signal N") to --status-fd, since bubblewrap folds signals into codes.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
MB = 1024 * 1024

_libc = ctypes.CDLL(None, use_errno=True)


class _Terminate(Exception):
    """Raised by the SIGTERM handler so a blocking waitpid returns (PEP 475 would retry it)."""


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}): {os.strerror(errno)}")


def _on_term(signum: int, frame: object) -> None:
    raise _Terminate


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="launch")
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--cpu-seconds", type=int, default=0)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--file-size-mb", type=int, default=0)
    parser.add_argument("--open-files", type=int, default=0)
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--chdir")
    parser.add_argument("--grace", type=float, default=3.0)
    parser.add_argument("--parent", type=int, default=0, help="exit at once unless this is still the parent")
    parser.add_argument("--status-fd", type=int)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command")
    return args


def _limit(kind: int, value: int) -> None:
    if value > 0:
        resource.setrlimit(kind, (value, value))


def _child(args: argparse.Namespace) -> None:
    """In the forked child: limits, identity, then exec. Never returns."""
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        if args.status_fd is not None:
            os.close(args.status_fd)
        _limit(resource.RLIMIT_CPU, args.cpu_seconds)
        # RLIMIT_DATA, not RLIMIT_AS: polars' jemalloc reserves >1 GB of address space it never touches.
        _limit(resource.RLIMIT_DATA, args.memory_mb * MB)
        _limit(resource.RLIMIT_FSIZE, args.file_size_mb * MB)
        _limit(resource.RLIMIT_NOFILE, args.open_files)
        _limit(resource.RLIMIT_CORE, 0)  # no core files: they fill the disk and hold the job's memory
        if args.uid is not None:
            _limit(resource.RLIMIT_NPROC, args.processes)
            os.setgroups([])
            os.setresgid(args.gid, args.gid, args.gid)
            os.setresuid(args.uid, args.uid, args.uid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        if args.chdir:
            os.chdir(args.chdir)
        os.execvp(args.command[0], args.command)
    except BaseException as exc:  # whatever failed: say so in the job log, exit 127 (never run on)
        try:
            os.write(2, f"watchkeeper launcher: cannot run {args.command[0]!r}: {exc}\n".encode())
        finally:
            os._exit(127)


def _descendants() -> list[int]:
    """Every process below this one, from /proc (children of children too)."""
    me = os.getpid()
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
                fields = stat.read().rsplit(b")", 1)[1].split()
            parents[int(name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found: list[int] = []
    frontier = {me}
    while frontier:
        below = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in found]
        found.extend(below)
        frontier = set(below)
    return found


def _signal_all(sig: int) -> int:
    pids = _descendants()
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    return len(pids)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _clean_up(grace: float, gently: bool) -> None:
    """End the whole tree: SIGTERM first when asked (a stop), then SIGKILL until no child is left."""
    if gently and _signal_all(signal.SIGTERM):
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _descendants():
            _reap()
            time.sleep(0.05)
    while True:
        _signal_all(signal.SIGKILL)
        try:
            os.waitpid(-1, 0)  # orphans re-parent to us (subreaper) as their parents die: loop until none
        except ChildProcessError:
            return


def main(argv: list[str]) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if args.parent and os.getppid() != args.parent:
        return 1  # the server died before the death signal was armed
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    status = None
    terminated = False
    try:
        child = os.fork()
        if child == 0:
            _child(args)
        while status is None:
            pid, raw = os.waitpid(-1, 0)  # reaps orphans too; only the command's own end ends the job
            if pid == child:
                status = raw
    except _Terminate:
        terminated = True
    except ChildProcessError:
        pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not interrupt the clean-up
    _clean_up(args.grace, gently=terminated)
    if status is None:
        end = f"signal {signal.SIGTERM.value}"
    elif os.WIFSIGNALED(status):
        end = f"signal {os.WTERMSIG(status)}"
    else:
        end = f"exit {os.waitstatus_to_exitcode(status)}"
    if args.status_fd is not None:
        os.write(args.status_fd, end.encode())
        os.close(args.status_fd)
    kind, number = end.split()
    return int(number) if kind == "exit" else 128 + int(number)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

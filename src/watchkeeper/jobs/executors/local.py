"""The local executor: a job's command as a sandboxed child process of this one (jobs/sandbox.py, jobs/launch.py).

The job's folder is handed to the job user for the run and taken back as soon as its process tree is dead.
What the process prints reaches the job log through a pipe, up to the log cap. `MaxRuntimeInSeconds` kills it
(Failed); a stop request kills it (Stopped): SIGTERM to the launcher, which ends every descendant, then SIGKILL
after a grace. The launcher dies with this process (PR_SET_PDEATHSIG), so no orphan keeps writing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import signal
import subprocess
import threading
import time
from typing import Any

from watchkeeper.jobs.executors.base import Job, Outcome
from watchkeeper.jobs.sandbox import Sandbox
from watchkeeper.services.processing_jobs import COMPLETED, FAILED, STOPPED

log = logging.getLogger(__name__)

MB = 1024 * 1024
_PR_SET_PDEATHSIG = 1


def _die_with(server: int) -> Any:
    """preexec_fn: the job's launcher (or bwrap) ends if the server is killed (Linux), so no orphan keeps
    writing; if the server died before the signal was armed, end now."""

    def arm() -> None:
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
        if os.getppid() != server:
            os._exit(1)

    return arm


class LocalExecutor:
    def __init__(self, sandbox: Sandbox, *, grace: float, log_cap: int) -> None:
        self.sandbox = sandbox
        self.grace = grace  # a stopped job's tree gets this long to exit on SIGTERM
        self.log_cap = log_cap

    def run(self, job: Job) -> Outcome:
        self.sandbox.hand_over(job.root)
        try:
            return self._supervise(job)
        finally:
            # The job's tree is dead: close its folder to the job user before anything in it is read.
            self.sandbox.take_back(job.root)

    def _supervise(self, job: Job) -> Outcome:
        command, root = job.command, job.root
        status_read, status_write = os.pipe()  # the launcher says how its command ended: "exit N" / "signal N"
        try:
            sealed = self.sandbox.command(
                command, root, network=job.network, status_fd=status_write, parent=os.getpid(), grace=self.grace
            )
            output_read, output_write = os.pipe()
        except OSError as exc:
            os.close(status_read)
            os.close(status_write)
            return Outcome(FAILED, failure_reason=f"InternalServerError: {exc}")
        try:
            process = subprocess.Popen(
                sealed,
                cwd=root.root,
                env=job.environment,
                stdout=output_write,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(status_write,),
                preexec_fn=_die_with(os.getpid()),
            )
        except OSError as exc:
            os.close(status_read)
            os.close(output_read)
            return Outcome(FAILED, failure_reason=f"ClientError: could not start {command[0]!r}: {exc}")
        finally:
            os.close(status_write)
            os.close(output_write)
        copier = LogCopier(output_read, job.log.fileno(), self.log_cap)
        copier.start()
        try:
            return self._watch(job, process, status_read)
        finally:
            os.close(status_read)
            copier.finish(timeout=self.grace + 5)

    def _watch(self, job: Job, process: subprocess.Popen[bytes], status_read: int) -> Outcome:
        started = time.monotonic()
        next_beat = started + job.renew_every
        max_runtime = job.max_runtime
        while True:
            try:
                code = _command_end(process.wait(timeout=0.2), status_read)
                return Outcome(COMPLETED if code == 0 else FAILED, exit_code=code)
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now - started > max_runtime:
                job.renew()  # the lease outlasts the grace
                _kill(process, self.grace)
                return Outcome(
                    FAILED,
                    failure_reason=f"Job exceeded MaxRuntimeInSeconds ({max_runtime:g} s) and was stopped. "
                    f"Job log: {job.root.root / 'job.log'}",
                )
            if now >= next_beat:
                next_beat = now + job.renew_every
                if job.renew():
                    _kill(process, self.grace)
                    return Outcome(STOPPED)
            if job.shutting_down.is_set():
                _kill(process, self.grace)
                return Outcome(FAILED, failure_reason="InternalServerError: Watchkeeper shut down while the job ran.")


class LogCopier(threading.Thread):
    """Copies what the job prints (a pipe) to its log, up to `cap` bytes; past it, says so once and drains
    the rest, so a job printing without end neither fills the disk nor blocks on a full pipe."""

    def __init__(self, source: int, target: int, cap: int) -> None:
        super().__init__(name="job-log-copier", daemon=True)
        self.source = source
        self.target = target
        self.cap = cap
        self.written = 0
        self.truncated = False
        self.last = b""  # the last byte kept: the runner's own lines start on a line of their own
        self._stop_reading = threading.Event()

    def run(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self.source], [], [], 0.2)
                if not ready:
                    if self._stop_reading.is_set():
                        return
                    continue
                chunk = os.read(self.source, 1 << 16)
                if not chunk:
                    return
                self._keep(chunk)
        except OSError:
            log.exception("copying a job's output to its log failed")
        finally:
            os.close(self.source)

    def _keep(self, chunk: bytes) -> None:
        if self.truncated:
            return
        room = self.cap - self.written
        kept = chunk[:room]
        if kept:
            _write_all(self.target, kept)
            self.written += len(kept)
            self.last = kept[-1:]
        if len(chunk) > room:  # the first byte past the cap: say so once, drop the rest
            self.truncated = True
            _write_all(
                self.target,
                ("" if self.last in (b"", b"\n") else "\n").encode()
                + f"... log truncated at {self.cap / MB:g} MB (WATCHKEEPER_JOB_LOG_MAX_MB): the job's further "
                "output was discarded\n".encode(),
            )

    def finish(self, timeout: float) -> None:
        """After the job: wait for the pipe to end (every writer is dead), at most `timeout` seconds."""
        self.join(timeout)
        if self.is_alive():  # something still holds the pipe: stop reading it
            self._stop_reading.set()
            self.join()
        if not self.truncated and self.last not in (b"", b"\n"):
            _write_all(self.target, b"\n")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _kill(process: subprocess.Popen[bytes], grace: float) -> None:
    """End a job: SIGTERM lets the launcher take its whole tree down (a SIGKILL of the launcher alone would
    orphan the tree); SIGKILL if it has not shortly after its grace."""
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=grace + 1)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _command_end(returncode: int, status_read: int) -> int:
    """The command's own end as Popen would report it (-N for a signal), from the launcher's status pipe;
    the launcher's (or bwrap's) exit code when it could not say."""
    os.set_blocking(status_read, False)
    try:
        kind, _, number = os.read(status_read, 64).decode().partition(" ")
        return -int(number) if kind == "signal" else int(number)
    except (OSError, ValueError):
        return returncode

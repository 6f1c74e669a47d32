"""The launcher alone (no server): how its command ended, and no descendant left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from watchkeeper.jobs.sandbox import LAUNCHER

MARK = f"302.{os.getpid():07d}"


def launch(*command: str, timeout: float = 20) -> tuple[int, str]:
    read, write = os.pipe()
    process = subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER), f"--status-fd={write}", "--grace=0.5", "--", *command],
        pass_fds=(write,), timeout=timeout, env={"PATH": "/usr/bin:/bin"},
    )
    os.close(write)
    with os.fdopen(read) as status:
        return process.returncode, status.read()


def sleepers(mark: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline", "status"])
            if (p.info["cmdline"] or [])[:2] == ["sleep", mark] and p.info["status"] != psutil.STATUS_ZOMBIE]


def test_exit_code_and_no_survivor() -> None:
    assert launch("/bin/sh", "-c", f"setsid sleep {MARK}1 & sleep 0.3; exit 7") == (7, "exit 7")
    assert not sleepers(f"{MARK}1")


def test_signal_is_reported_as_a_signal() -> None:
    assert launch("/bin/sh", "-c", "kill -9 $$") == (128 + 9, "signal 9")


def test_unrunnable_command() -> None:
    code, status = launch("/nonexistent/program")
    assert (code, status) == (127, "exit 127")


def test_sigterm_ends_the_tree_even_when_ignored() -> None:
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", str(LAUNCHER), "--grace=0.5", "--", "/bin/sh", "-c",
         f"trap '' TERM; setsid sleep {MARK}2 & sleep 60"],
        env={"PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + 10
    while not sleepers(f"{MARK}2") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleepers(f"{MARK}2")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 128 + signal.SIGTERM
    assert not sleepers(f"{MARK}2")

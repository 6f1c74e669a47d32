"""The executor interface: what a job's work gets, and what it answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from watchkeeper.jobs.contract import JobRoot


@dataclass(frozen=True)
class Outcome:
    """How a job ended. `exit_code` is set when its command ran to its end (0: success; -N: killed by signal N):
    the runner then reads back what the job left. Without it the job was ended from outside (its runtime ran out,
    it was stopped, it could not start) and `status`/`failure_reason` are final."""

    status: str
    exit_message: str | None = None
    failure_reason: str | None = None
    exit_code: int | None = None
    # The status a completed built-in job's result.json gives (Completed / CompletedWithViolations), taken
    # over the ExitMessage's first word by the plan runner.
    result_status: str | None = None


@dataclass
class Job:
    """One staged job: its inputs are in `root`, the command and environment are the ones to run."""

    name: str
    request: dict[str, Any]
    root: JobRoot
    command: list[str]
    environment: dict[str, str]
    network: bool
    max_runtime: float
    log: IO[str]  # the job log, open for appending
    renew: Callable[[], bool]  # renews the job's lease; True when StopProcessingJob was asked
    renew_every: float = 5.0
    shutting_down: threading.Event = field(default_factory=threading.Event)


class Executor(Protocol):
    def run(self, job: Job) -> Outcome:
        """Run the job's work to its end, renewing its lease; never raise for the job's own faults."""
        ...

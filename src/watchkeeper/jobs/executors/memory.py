"""An in-memory executor for tests: the job's work is a Python function called in this process."""

from __future__ import annotations

from collections.abc import Callable

from watchkeeper.jobs.executors.base import Job, Outcome
from watchkeeper.services.processing_jobs import COMPLETED, FAILED

Work = Callable[[Job], int | Outcome]


class InMemoryExecutor:
    """Runs `work(job)` for each job whose name starts with one of its prefixes (the first that matches);
    the function writes what the job would (into `job.root.local(...)`) and returns an exit code or an Outcome.
    Every job run is kept in `jobs`, in order."""

    def __init__(self, work: dict[str, Work] | Work) -> None:
        self.work = work if isinstance(work, dict) else {"": work}
        self.jobs: list[Job] = []

    def run(self, job: Job) -> Outcome:
        self.jobs.append(job)
        for prefix, work in self.work.items():
            if job.name.startswith(prefix):
                ended = work(job)
                if isinstance(ended, Outcome):
                    return ended
                return Outcome(COMPLETED if ended == 0 else FAILED, exit_code=ended)
        return Outcome(FAILED, failure_reason=f"InternalServerError: no work for {job.name} in this executor")

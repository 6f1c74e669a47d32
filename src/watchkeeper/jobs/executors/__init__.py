"""Executors run a job's work once the job runner has staged it (jobs/runner.py), behind one small interface
(base.Executor: `run(job) -> Outcome`, as httpx's transports): local.py runs it as a sandboxed local process,
memory.py runs a Python function in-process for tests."""

from watchkeeper.jobs.executors.base import Executor, Job, Outcome

__all__ = ["Executor", "Job", "Outcome"]

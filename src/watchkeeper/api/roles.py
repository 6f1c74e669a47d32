"""What each role of `watchkeeper serve --role` runs, and the health endpoint of the roles without the API.

- `api`: the HTTP APIs (SageMaker, runtime and capture, CloudWatch, Logs, /metrics, the dashboard); no loop.
- `scheduler`: the schedule loop (activation, firing, endpoints brought InService) and the alarm loops
  (evaluation, webhook delivery, Model Monitor alert fan-out).
- `worker`: the job runner (claims jobs, keeps their leases, fails the jobs of dead workers).
- `all` (default): everything, one process.

Every loop is safe to run in any number of processes on one store (docs/replicas.md). A role without the API
still listens on its port, for `GET /healthz` alone: 200 while its loops are alive and the database answers,
503 otherwise, so an orchestrator can restart it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from watchkeeper.api.runtime import ping
from watchkeeper.jobs.runner import JobRunner
from watchkeeper.metrics.alarm_worker import AlarmWorker
from watchkeeper.scheduling.scheduler import Scheduler
from watchkeeper.services.container import Services
from watchkeeper.transform.runner import TransformRunner

log = logging.getLogger(__name__)

ROLES = ("all", "api", "scheduler", "worker")


@dataclass(frozen=True)
class Parts:
    http: bool
    scheduler: bool
    runner: bool


def parts_of(role: str) -> Parts:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return Parts(
        http=role in ("all", "api"),
        scheduler=role in ("all", "scheduler"),
        runner=role in ("all", "worker"),
    )


class Background:
    """The loops of one role, started and stopped together by the app's lifespan."""

    def __init__(self, services: Services, role: str, enabled: bool = True) -> None:
        self.services = services
        self.role = role
        parts = parts_of(role)
        settings = services.settings
        self.scheduler = Scheduler(services, ping=ping) if enabled and parts.scheduler else None
        self.alarms = (
            AlarmWorker(services.alarms, services.metrics_store, services.notifier, settings.alarm_evaluation_seconds)
            if enabled and parts.scheduler
            else None
        )
        self.runner = (
            JobRunner(
                services.processing_jobs,
                services.store,
                settings.jobs_dir,
                max_concurrent=settings.max_concurrent_jobs,
                lease_seconds=settings.job_lease_seconds,
                settings=settings,
                resolve_model=services.model_server,
            )
            if enabled and parts.runner
            else None
        )
        # Batch transform jobs (transform/runner.py): worker loops too, with the same lease rules.
        self.transforms = (
            TransformRunner(
                services.transform_jobs,
                services.store,
                max_concurrent=settings.max_concurrent_jobs,
                lease_seconds=settings.job_lease_seconds,
                upstream_allow=settings.upstream_allow,
            )
            if enabled and parts.runner
            else None
        )

    def _loops(self) -> Iterable[Any]:
        loops = (self.scheduler, self.runner, self.transforms, self.alarms)
        return (loop for loop in loops if loop is not None)

    def describe(self) -> str:
        names = {Scheduler: "scheduler", JobRunner: "job runner", TransformRunner: "transform runner",
                 AlarmWorker: "alarm evaluation and delivery"}
        running = [names[type(loop)] for loop in self._loops()]
        if self.runner is not None:
            running[running.index("job runner")] += f" (lease owner {self.runner.owner})"
        return ", ".join(running) or "no background loop"

    def start(self) -> None:
        for loop in self._loops():
            loop.start()

    def stop(self) -> None:
        for loop in self._loops():
            loop.stop()

    def dead_loops(self) -> list[str]:
        """The names of loop threads that ended (a loop never returns while the process runs)."""
        threads: list[threading.Thread] = []
        for loop in self._loops():
            threads += [t for t in [getattr(loop, "_thread", None), *getattr(loop, "_threads", [])] if t is not None]
        return [t.name for t in threads if not t.is_alive()]

    def health(self) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"status": "ok", "role": self.role, "runs": self.describe()}
        dead = self.dead_loops()
        if dead:
            body.update(status="failing", reason=f"loop(s) stopped: {', '.join(dead)}")
            return 503, body
        try:
            with self.services.db.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the loops cannot work without it: an orchestrator should know
            body.update(status="failing", reason=f"database unreachable: {type(exc).__name__}")
            return 503, body
        return 200, body


def background_app(services: Services, role: str) -> Starlette:
    """The app of a role without the API: its loops, and GET /healthz."""
    background = Background(services, role)

    async def health(_: Request) -> Response:
        status, body = await run_in_threadpool(background.health)
        return JSONResponse(body, status_code=status)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        background.start()
        log.info("role %s: running %s; only GET /healthz is served", role, background.describe())
        try:
            yield
        finally:
            try:
                background.stop()
            finally:
                services.close()

    return Starlette(routes=[Route("/healthz", health, methods=["GET"])], lifespan=lifespan)

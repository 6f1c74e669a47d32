"""The background loop of a server process: each tick moves schedules and endpoints along.

A tick activates Pending schedules, starts the executions whose fire time has come, and brings endpoints
InService once their model servers answer /ping. Every step is an idempotent database update, so several
processes may tick the same store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import orjson

from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import latest_fire_at_or_before, next_fire_after
from watchkeeper.services.container import Services

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, services: Services, ping: Callable[[str], bool], interval_seconds: float = 0.2) -> None:
        self.services = services
        self.ping = ping
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        self.services.schedules.activate_pending()
        self.fire_due()
        self.services.endpoints.advance(self.ping)

    def fire_due(self) -> int:
        """Start an execution for each schedule whose fire time has come. After downtime only the latest
        missed fire time runs (never a storm); the execution's unique key makes a second process a no-op."""
        started = 0
        now = self.services.clock.now()
        for row in self.services.schedules.due():
            spec = parse_schedule_expression(
                (orjson.loads(row.config).get("ScheduleConfig") or {}).get("ScheduleExpression")
            )
            fire_time = row.next_fire_time if spec.kind == "now" else latest_fire_at_or_before(spec, now)
            if self.services.starter.start(row, fire_time) is not None:
                started += 1
            self.services.schedules.advance(row, None if spec.kind == "now" else next_fire_after(spec, now))
        return started

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # keep the loop alive; the next tick retries
                log.exception("scheduler tick failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="watchkeeper-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

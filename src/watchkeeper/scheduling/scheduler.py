"""The background loop of a server process: each tick moves schedules and endpoints along.

A tick activates Pending schedules, starts the executions whose fire time has come, and brings endpoints
InService once their model servers answer /ping. Every step is an idempotent database update, so several
processes may tick the same store.

A fault stays where it starts (docs/scheduling.md): each step of a tick runs on its own, and so does each
schedule. A schedule whose execution cannot be started because of what it stores (a configuration an older
version accepted, a definition of the wrong shape) is set `Failed` with the reason, logged once; a fault of
the database (locked, connection lost) is logged once and retried at the next tick. Either way every other
schedule still fires, and endpoints still advance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Row
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import latest_fire_at_or_before, next_fire_after
from watchkeeper.services.container import Services
from watchkeeper.services.schedules import failure_text

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, services: Services, ping: Callable[[str], bool], interval_seconds: float = 0.2) -> None:
        self.services = services
        self.ping = ping
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # What was last logged for each step or schedule, so a fault repeated every tick is logged once.
        self._reported: dict[str, str] = {}

    def tick(self) -> None:
        for step, run in (
            ("activating schedules", self.services.schedules.activate_pending),
            ("starting executions", self.fire_due),
            ("advancing endpoints", lambda: self.services.endpoints.advance(self.ping)),
        ):
            try:
                run()
            except Exception as exc:  # one step's fault does not stop the others; the next tick retries
                self._report(step, exc)
            else:
                self._reported.pop(step, None)

    def fire_due(self) -> int:
        """Start an execution for each schedule whose fire time has come. After downtime only the latest
        missed fire time runs (never a storm); the execution's unique key makes a second process a no-op."""
        started = 0
        now = self.services.clock.now()
        for row in self.services.schedules.due():
            key = f"schedule {row.name} ({row.account}/{row.region})"
            try:
                started += self._fire(row, now)
            except SQLAlchemyError as exc:  # the database's fault, not the schedule's: retried next tick
                self._report(key, exc)
            except Exception as exc:  # what the schedule stores cannot run: it fails, the others go on
                self._fail(key, row, now, exc)
            else:
                self._reported.pop(key, None)
        return started

    def _fire(self, row: Row[Any], now: float) -> int:
        spec = parse_schedule_expression(
            (orjson.loads(row.config).get("ScheduleConfig") or {}).get("ScheduleExpression")
        )
        fire_time = row.next_fire_time if spec.kind == "now" else latest_fire_at_or_before(spec, now)
        started = self.services.starter.start(row, fire_time) is not None  # the plan runner takes it from here
        self.services.schedules.advance(row, None if spec.kind == "now" else next_fire_after(spec, now))
        return int(started)

    def _fail(self, key: str, row: Row[Any], now: float, exc: Exception) -> None:
        due = datetime.fromtimestamp(row.next_fire_time or now, UTC).isoformat(timespec="seconds")
        try:
            self.services.schedules.fail(
                row, f"The monitoring execution due at {due} could not be started: {failure_text(exc)}"
            )
        except SQLAlchemyError as db_exc:
            self._report(key, db_exc)
        else:
            self._reported.pop(key, None)

    def _report(self, key: str, exc: Exception) -> None:
        """Log a fault once while it repeats tick after tick (again only when it changes or comes back)."""
        text = failure_text(exc)
        if self._reported.get(key) != text:
            self._reported[key] = text
            log.error("scheduler: %s failed (retried every tick, logged once): %s", key, text, exc_info=exc)

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

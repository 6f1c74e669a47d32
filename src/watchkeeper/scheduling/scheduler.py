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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.scheduling.expressions import parse_schedule_expression
from watchkeeper.scheduling.fire_times import latest_fire_at_or_before, next_fire_after
from watchkeeper.services.container import Services
from watchkeeper.services.executions import Lookups, Planned, Started
from watchkeeper.services.schedules import failure_text, log_failed

log = logging.getLogger(__name__)

# Schedules claimed and started per transaction: few statements for many executions, while a batch holds its
# rows (and on SQLite the write lock) for tens of milliseconds at most.
BATCH = 50


@dataclass
class Batch:
    """What one transaction of `fire_due` did: the executions planned and their outcome (None: the fire time
    had one already), and the schedules failed with their reasons."""

    planned: list[Planned] = field(default_factory=list)
    started: list[Started | None] = field(default_factory=list)
    failed: list[tuple[Row[Any], str]] = field(default_factory=list)
    left_due: list[int] = field(default_factory=list)  # not advanced: not to be claimed again in this tick


def _key(row: Row[Any]) -> str:
    return f"schedule {row.name} ({row.account}/{row.region})"


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
        missed fire time runs (never a storm); the execution's unique key makes a second process a no-op.

        Schedules are claimed a batch at a time, each batch started in one transaction. A fault that takes the
        transaction down (the database's, or a write of one schedule's) rolls the batch back, and its schedules
        are started again one per transaction, so the fault stays with its schedule."""
        now = self.services.clock.now()
        held_back: set[int] = set()  # left due after a fault in this tick: retried at the next tick, not now
        started = 0
        while (fired := self._fire_batch(now, held_back)) is not None:
            started += fired
        return started

    def _fire_batch(self, now: float, held_back: set[int]) -> int | None:
        """Claim and start one batch; None once nothing is left to claim."""
        claimed: list[Row[Any]] = []
        try:
            with self.services.db.write() as conn:
                claimed = self.services.schedules.claim_due(conn, now, BATCH, held_back)
                if not claimed:
                    return None
                batch = self._start(conn, claimed, now)
        except Exception:
            if not claimed:
                raise  # the claim itself failed: the step's fault, reported by tick
            held_back.update(row.id for row in claimed)
            return sum(self._fire_alone(row, now) for row in claimed)
        held_back.update(batch.left_due)
        return self._committed(batch)

    def _fire_alone(self, row: Row[Any], now: float) -> int:
        """One schedule in its own transaction, claimed again (another process may have fired it meanwhile)."""
        key = _key(row)
        try:
            with self.services.db.write() as conn:
                claimed = self.services.schedules.claim_due(conn, now, 1, schedule_id=row.id)
                if not claimed:
                    return 0
                batch = self._start(conn, claimed, now)
        except SQLAlchemyError as exc:  # the database's fault, not the schedule's: retried next tick
            self._report(key, exc)
            return 0
        except Exception as exc:  # what the schedule stores cannot run: it fails, the others go on
            self._fail(key, row, self._reason(row, now, exc))
            return 0
        return self._committed(batch)

    def _start(self, conn: Connection, rows: list[Row[Any]], now: float) -> Batch:
        """Plan each claimed schedule's execution, then write them all and advance the schedules. A schedule
        whose plan raises (what it stores cannot run) is failed here; the database's faults propagate."""
        batch = Batch()
        lookups = Lookups()
        moves: list[tuple[Row[Any], float | None]] = []
        for row in rows:
            try:
                fire_time, next_fire = self._fire_times(row, now)
                batch.planned.append(self.services.starter.plan(conn, row, fire_time, lookups=lookups))
            except SQLAlchemyError:
                raise
            except Exception as exc:
                reason = self.services.schedules.fail_in(conn, row, self._reason(row, now, exc))
                if reason is not None:
                    batch.failed.append((row, reason))
                batch.left_due.append(row.id)
                continue
            moves.append((row, next_fire))
        batch.started = self.services.starter.record(conn, batch.planned)  # the plan runner takes it from here
        self.services.schedules.advance(conn, moves)
        return batch

    @staticmethod
    def _fire_times(row: Row[Any], now: float) -> tuple[float, float | None]:
        """This firing's time, and the schedule's next (None: a NOW schedule fires once)."""
        spec = parse_schedule_expression(
            (orjson.loads(row.config).get("ScheduleConfig") or {}).get("ScheduleExpression")
        )
        if spec.kind == "now":
            return row.next_fire_time, None
        return latest_fire_at_or_before(spec, now), next_fire_after(spec, now)

    def _committed(self, batch: Batch) -> int:
        """Log what a committed batch did, once."""
        for planned, started in zip(batch.planned, batch.started, strict=True):
            self.services.starter.log_outcome(planned, started)
            self._reported.pop(_key(planned.schedule), None)
        for row, reason in batch.failed:
            log_failed(row.name, reason)
            self._reported.pop(_key(row), None)
        return sum(1 for started in batch.started if started is not None)

    @staticmethod
    def _reason(row: Row[Any], now: float, exc: Exception) -> str:
        due = datetime.fromtimestamp(row.next_fire_time or now, UTC).isoformat(timespec="seconds")
        return f"The monitoring execution due at {due} could not be started: {failure_text(exc)}"

    def _fail(self, key: str, row: Row[Any], reason: str) -> None:
        try:
            self.services.schedules.fail(row, reason)
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

"""The alarm loops of a server process: every `evaluation_seconds` one evaluates each metric alarm over the
metrics store; every `delivery_seconds` the other delivers due notifications (metrics/notify.py).

Each alarm is evaluated on its own: an alarm whose evaluation fails is logged (once while the fault repeats)
and the others go on. A state change is a conditional update (metrics/alarms.py `transition`), so several
processes evaluating the same store record each transition once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
from sqlalchemy import Row

from watchkeeper.metrics.aggregate import buckets
from watchkeeper.metrics.alarm_rules import evaluate, evaluation_range
from watchkeeper.metrics.alarms import AlarmService
from watchkeeper.metrics.datums import canonical_dimensions
from watchkeeper.metrics.notify import Notifier
from watchkeeper.metrics.store import MetricsStore
from watchkeeper.services.context import RequestContext

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0  # history past retention is deleted at most once an hour per process


class AlarmWorker:
    def __init__(
        self,
        alarms: AlarmService,
        metrics: MetricsStore,
        notifier: Notifier,
        evaluation_seconds: float,
        delivery_seconds: float = 0.5,
    ) -> None:
        self.alarms = alarms
        self.metrics = metrics
        self.notifier = notifier
        self.evaluation_seconds = evaluation_seconds
        self.delivery_seconds = min(delivery_seconds, evaluation_seconds)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._reported: dict[str, str] = {}

    def evaluate_all(self) -> int:
        """Evaluate every alarm; returns how many changed state."""
        changed = 0
        for row in self.alarms.all_alarms():
            key = f"alarm {row.name} ({row.account}/{row.region})"
            try:
                changed += self.evaluate_one(row)
            except Exception as exc:  # one alarm's fault never stops the others
                text = f"{type(exc).__name__}: {exc}"
                if self._reported.get(key) != text:
                    self._reported[key] = text
                    log.error("alarm evaluation: %s failed (logged once while it repeats)", key, exc_info=exc)
            else:
                self._reported.pop(key, None)
        return changed

    def evaluate_one(self, row: Row[Any]) -> int:
        config = orjson.loads(row.config)
        now = self.alarms.clock.now()
        start, end, starts = evaluation_range(config, now)
        points = self.metrics.points(
            RequestContext(row.account, row.region),
            config["Namespace"],
            config["MetricName"],
            canonical_dimensions(config.get("Dimensions")),
            start,
            end,
            config.get("Unit"),
        )
        found = {b.start: b.value(config["Statistic"]) for b in buckets(points, start, config["Period"], by_unit=False)}
        verdict = evaluate(config, [(s, found.get(s)) for s in starts], now)
        if verdict.state is None or verdict.state == row.state_value:
            return 0  # CloudWatch records no update while the state holds
        with self.alarms.db.write() as conn:
            return int(self.alarms.transition(conn, row, verdict.state, verdict.reason, verdict.data))

    def _evaluate_loop(self) -> None:
        last_purge = float("-inf")
        while not self._stop.wait(self.evaluation_seconds):
            try:
                self.evaluate_all()
                if self.alarms.clock.now() - last_purge >= PURGE_INTERVAL:
                    last_purge = self.alarms.clock.now()
                    self.alarms.purge()
            except Exception:  # keep the loop alive; the next interval retries
                log.exception("alarm evaluation failed; retried next interval")

    def _deliver_loop(self) -> None:
        while not self._stop.wait(self.delivery_seconds):
            try:
                self.notifier.deliver_due()
            except Exception:
                log.exception("alarm notification delivery failed; retried next tick")

    def start(self) -> None:
        # Apart, so a slow webhook never delays evaluation, nor a slow evaluation a delivery.
        self._threads = [
            threading.Thread(target=self._evaluate_loop, name="watchkeeper-alarms", daemon=True),
            threading.Thread(target=self._deliver_loop, name="watchkeeper-alarm-delivery", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

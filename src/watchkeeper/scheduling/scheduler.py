"""The background loop of a server process: each tick moves schedules and endpoints along.

A tick activates Pending schedules and brings endpoints InService once their model servers answer /ping;
fire times and executions join it in the scheduler issue. Every step is an idempotent database update, so
several processes may tick the same store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from watchkeeper.services.container import Services

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self, services: Services, ping: Callable[[str], bool], interval_seconds: float = 0.2
    ) -> None:
        self.services = services
        self.ping = ping
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        self.services.schedules.activate_pending()
        self.services.endpoints.advance(self.ping)

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

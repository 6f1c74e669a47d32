"""Monitoring executions counted by (account, region, status) without reading every execution per scrape.

An execution that has ended never changes status again, and executions are never deleted, so every execution
below the lowest id of one still running (Pending, InProgress, Stopping) is counted once and kept ("settled");
each count reads only the executions from that watermark up. Executions created in the last `SETTLE_SECONDS`
are never settled: an insert not yet committed (PostgreSQL commits out of id order) is one of them, so none is
skipped. Measured: 112 ms for a full count of 720,000 executions on SQLite, against a few ms here
(bench/dashboard.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable

from sqlalchemy import Connection, func, select

from watchkeeper.store.tables import monitoring_executions

UNFINISHED = ("Pending", "InProgress", "Stopping")
SETTLE_SECONDS = 60.0

Key = tuple[str, str, str]  # account, region, status


class ExecutionCounts:
    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._lock = threading.Lock()  # scrapes run in the thread pool
        self._watermark = 0  # every execution with a lower id is counted in _settled
        self._settled: Counter[Key] = Counter()

    def counts(self, conn: Connection, account: str | None) -> tuple[dict[Key, int], Hashable]:
        """(counts, a token that changes whenever an execution is added or changes status): rows below the
        watermark never change, so the token is the watermark and the live rows' ids and statuses."""
        with self._lock:
            self._advance(conn)
            live = self._live(conn, self._watermark, account)
            total = Counter({k: v for k, v in self._settled.items() if account is None or k[0] == account})
            token = (self._watermark, frozenset((row[0], row[3]) for row in live))
        total.update((row[1], row[2], row[3]) for row in live)
        return dict(total), token

    def _advance(self, conn: Connection) -> None:
        """Settle the executions below both the lowest unfinished one and every one created in the last
        SETTLE_SECONDS (an insert not yet committed is one of those)."""
        ex = monitoring_executions.c
        lows = [conn.execute(select(func.min(ex.id)).where(ex.status == status, ex.id >= self._watermark)).scalar()
                for status in UNFINISHED]
        # The newest execution created before the cut: a walk back from the highest id, as few steps as there
        # were executions in the last SETTLE_SECONDS.
        old = conn.execute(
            select(ex.id).where(ex.creation_time < self.now() - SETTLE_SECONDS).order_by(ex.id.desc()).limit(1)
        ).scalar()
        if old is None:
            return
        target = min([x for x in lows if x is not None] + [old + 1])
        if target > self._watermark:
            self._settled.update(self._count(conn, self._watermark, target))
            self._watermark = target

    @staticmethod
    def _count(conn: Connection, low: int, high: int) -> Counter[Key]:
        ex = monitoring_executions.c
        query = select(ex.account, ex.region, ex.status, func.count()).where(ex.id >= low, ex.id < high)
        rows = conn.execute(query.group_by(ex.account, ex.region, ex.status)).all()
        return Counter({(r[0], r[1], r[2]): int(r[3]) for r in rows})

    @staticmethod
    def _live(conn: Connection, low: int, account: str | None) -> list[tuple[int, str, str, str]]:
        """The rows from the watermark up, few: read by id range, since with a GROUP BY SQLite may walk a whole
        index in group order instead of the range (measured: 96 ms for none)."""
        ex = monitoring_executions.c
        query = select(ex.id, ex.account, ex.region, ex.status).where(ex.id >= low)
        if account is not None:
            query = query.where(ex.account == account)
        return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]

"""Execution counts by status kept incrementally (metrics/execution_counts.py) equal a full count after every
change: executions ending, new ones, several accounts; recent executions are never settled."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import func, insert, select, update

from watchkeeper.metrics.execution_counts import SETTLE_SECONDS, ExecutionCounts
from watchkeeper.store import Database
from watchkeeper.store.tables import monitoring_executions as ex


def full_count(db: Database, account: str | None = None) -> dict[tuple[str, str, str], int]:
    query = select(ex.c.account, ex.c.region, ex.c.status, func.count()).group_by(
        ex.c.account, ex.c.region, ex.c.status)
    if account:
        query = query.where(ex.c.account == account)
    with db.read() as conn:
        return {(a, r, s): n for a, r, s, n in conn.execute(query).all()}


def add(db: Database, start: int, statuses: list[str], created: float, account: str = "111111111111") -> None:
    with db.write() as conn:
        conn.execute(insert(ex), [
            {"account": account, "region": "us-east-1", "schedule_name": f"s{(start + i) % 7}",
             "schedule_key": f"s{(start + i) % 7}", "scheduled_time": float(start + i), "creation_time": created,
             "last_modified_time": created, "status": status}
            for i, status in enumerate(statuses)
        ])


def test_counts_follow_every_change(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.migrate()
    clock = [10_000.0]
    counts = ExecutionCounts(lambda: clock[0])

    def check() -> None:
        with db.read() as conn:
            assert counts.counts(conn, None)[0] == full_count(db)
            assert counts.counts(conn, "222222222222")[0] == full_count(db, "222222222222")

    add(db, 0, ["Completed"] * 9 + ["Pending"] * 3 + ["Failed", "CompletedWithViolations"] * 10, created=0.0)
    add(db, 100, ["Completed", "InProgress"] * 5, created=0.0, account="222222222222")
    check()
    assert counts._watermark == 10  # the first Pending execution: everything below it is settled
    with db.write() as conn:  # the Pending ones end; new ones start just now
        conn.execute(update(ex).where(ex.c.status == "Pending").values(status="CompletedWithViolations"))
        conn.execute(update(ex).where(ex.c.status == "InProgress").values(status="Stopped"))
    add(db, 200, ["Pending", "Completed"] * 4, created=clock[0] - 1)
    check()
    with db.read() as conn:
        recent = conn.execute(select(func.min(ex.c.id)).where(ex.c.creation_time > clock[0] - SETTLE_SECONDS)).scalar()
    assert counts._watermark == recent  # everything older settled, nothing created in the last minute
    clock[0] += 2 * SETTLE_SECONDS
    with db.write() as conn:
        conn.execute(update(ex).where(ex.c.status == "Pending").values(status="Failed"))
    check()
    with db.read() as conn:
        assert counts._watermark == conn.execute(select(func.max(ex.c.id))).scalar() + 1
    assert sum(Counter(full_count(db)).values()) == 32 + 10 + 8

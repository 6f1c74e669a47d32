"""Engine, migrations and transactions.

SQLite runs in WAL mode. Write transactions start with `BEGIN IMMEDIATE` so that concurrent writers queue
on SQLite's lock (busy timeout) instead of failing when a read transaction tries to upgrade.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine

_MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE is possible.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("sqlite_write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get("sqlite_autocommit_reads", False):
            conn.exec_driver_sql("BEGIN")

    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe when several processes start at once."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        if self.is_sqlite:
            db_file = Path(self.url.removeprefix("sqlite:///"))
            db_file.parent.mkdir(parents=True, exist_ok=True)
            with open(db_file.with_suffix(".migrate.lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._upgrade(config)
        else:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT pg_advisory_lock(728291)")
                try:
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                    conn.commit()
                finally:
                    conn.exec_driver_sql("SELECT pg_advisory_unlock(728291)")
                    conn.commit()

    def _upgrade(self, config: Config) -> None:
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Reads: on SQLite each statement runs in its own implicit transaction (no BEGIN/ROLLBACK trips)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(sqlite_autocommit_reads=True) if self.is_sqlite else conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()

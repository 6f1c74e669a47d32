"""Metadata store: SQLAlchemy 2 Core over SQLite (default) or PostgreSQL, migrated by Alembic."""

from watchkeeper.store.database import Database

__all__ = ["Database"]

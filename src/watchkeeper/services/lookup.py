"""Finding a resource by name: scoped to the caller's account and region, case-insensitively (AWS's rule)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, Table, select

from watchkeeper.services.context import RequestContext


def find_named(conn: Connection, table: Table, ctx: RequestContext, name: str, **equals: Any) -> Row[Any] | None:
    """The row of `table` named `name` (plus any exact `column=value` conditions), or None."""
    conditions = [table.c.account == ctx.account, table.c.region == ctx.region, table.c.name_key == name.lower()]
    conditions += [table.c[column] == value for column, value in equals.items()]
    return conn.execute(select(table).where(*conditions)).first()

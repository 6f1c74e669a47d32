"""The List* conventions shared by every family: filters, sort, NextToken/MaxResults.

NextToken is an opaque offset into the sorted result. A token that does not decode is a ValidationException,
as AWS answers for a token it did not issue.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Column, ColumnElement, Connection, Select, Table, func

from watchkeeper.errors import ValidationError
from watchkeeper.services.context import RequestContext


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    next_token: str | None

    def result(self, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """The List response: the items under `key`, and NextToken while more remain."""
        result: dict[str, Any] = {key: items}
        if self.next_token:
            result["NextToken"] = self.next_token
        return result


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = orjson.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except Exception as exc:
        raise ValidationError(f"Invalid pagination token '{token[:64]}'") from exc
    # SQL OFFSET is a signed 64-bit integer; a larger offset is a token we never issued.
    if not isinstance(offset, int) or not 0 <= offset < 2**62:
        raise ValidationError(f"Invalid pagination token '{token[:64]}'")
    return offset


def time_filters(params: Mapping[str, Any], columns: Mapping[str, Column[Any]]) -> list[ColumnElement[bool]]:
    """`<Prefix>Before` / `<Prefix>After` filters, strict as AWS applies them."""
    conditions: list[ColumnElement[bool]] = []
    for prefix, column in columns.items():
        if (before := params.get(f"{prefix}Before")) is not None:
            conditions.append(column < before)
        if (after := params.get(f"{prefix}After")) is not None:
            conditions.append(column > after)
    return conditions


# SQLite refuses LIKE patterns longer than this many bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH) with an error.
# The API already bounds every string (api/validation.py); this keeps any other caller from a database fault.
MAX_LIKE_PATTERN_BYTES = 50_000


def name_contains(column: Column[Any], fragment: str | None) -> list[ColumnElement[bool]]:
    """A case-insensitive substring match: `%`, `_` and the escape character match themselves."""
    if not fragment:
        return []
    escaped = fragment.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(escaped.encode("utf-8", "surrogatepass")) + 2 > MAX_LIKE_PATTERN_BYTES:
        raise ValidationError(f"NameContains is too long ({len(fragment)} characters)")
    return [func.lower(column).like(f"%{escaped}%", escape="\\")]


def list_filters(
    table: Table,
    ctx: RequestContext,
    params: Mapping[str, Any],
    *,
    times: Mapping[str, Column[Any]],
    equals: Mapping[str, Column[Any]] | None = None,
    names: Mapping[str, Column[Any]] | None = None,
) -> list[ColumnElement[bool]]:
    """The caller's account and region, then the filters Lists share: `equals` (exact, e.g. StatusEquals),
    `names` (a resource name, matched case-insensitively as AWS matches names), NameContains and the
    `<Time>Before/After` pairs."""
    conditions: list[ColumnElement[bool]] = [table.c.account == ctx.account, table.c.region == ctx.region]
    for param, column in (equals or {}).items():
        if params.get(param):
            conditions.append(column == params[param])
    for param, column in (names or {}).items():
        if params.get(param):
            conditions.append(func.lower(column) == params[param].lower())
    if params.get("NameContains"):
        conditions += name_contains(table.c.name, params["NameContains"])
    conditions += time_filters(params, times)
    return conditions


def paginate(
    conn: Connection,
    query: Select[Any],
    params: Mapping[str, Any],
    sort_columns: Mapping[str, Column[Any]],
    tie_breaker: Column[Any],
    default_sort: str = "CreationTime",
    default_max: int = 10,
) -> Page:
    sort_key = params.get("SortBy") or default_sort
    column = sort_columns[sort_key]
    descending = (params.get("SortOrder") or "Descending") == "Descending"
    order = [column.desc(), tie_breaker.desc()] if descending else [column.asc(), tie_breaker.asc()]
    limit = params.get("MaxResults") or default_max
    offset = decode_token(params.get("NextToken"))
    rows = conn.execute(query.order_by(*order).offset(offset).limit(limit + 1)).all()
    next_token = encode_token(offset + limit) if len(rows) > limit else None
    return Page(rows=rows[:limit], next_token=next_token)

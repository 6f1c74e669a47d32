"""Tags on any taggable resource, keyed by ARN."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from watchkeeper.errors import ResourceNotFound, ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.listing import decode_token, encode_token
from watchkeeper.store import Database
from watchkeeper.store.tables import tags

MAX_TAGS_PER_RESOURCE = 50


def canonical_arn(arn: str) -> str:
    """A SageMaker ARN with its resource part lower-cased, as SageMaker stores it (spec §1.1)."""
    head, slash, resource = arn.partition("/")
    return f"{head}/{resource.lower()}" if slash and head.startswith("arn:") else arn


class TagService:
    def __init__(self, db: Database, taggable: Iterable[Table]) -> None:
        self.db = db
        self.taggable = list(taggable)

    def _require_resource(self, conn: Connection, ctx: RequestContext, arn: str) -> str:
        """The stored ARN of the caller's resource (the caller's account and region only: another account's
        resource does not exist for it). Names are case-insensitive and stored ARNs lower-case the name, so
        `.../endpoint/MyEndpoint` finds `.../endpoint/myendpoint`, as on AWS."""
        given, arn = arn, canonical_arn(arn)
        for table in self.taggable:
            found = conn.execute(
                select(table.c.id)
                .where(table.c.arn == arn, table.c.account == ctx.account, table.c.region == ctx.region)
                .limit(1)
            ).first()
            if found:
                return arn
        raise ResourceNotFound(f"Resource {given} does not exist")

    def put(self, conn: Connection, arn: str, new_tags: list[dict[str, Any]]) -> None:
        """Insert or overwrite; called inside the transaction that creates the resource too."""
        existing = {row.key: row.position for row in conn.execute(select(tags).where(tags.c.resource_arn == arn))}
        next_position = max(existing.values(), default=-1) + 1
        keys = {t["Key"] for t in new_tags}
        if len(existing.keys() | keys) > MAX_TAGS_PER_RESOURCE:
            raise ValidationError(
                f"Resource {arn} would have {len(existing.keys() | keys)} tags; the limit is {MAX_TAGS_PER_RESOURCE}"
            )
        for tag in new_tags:
            value = tag.get("Value", "")
            if tag["Key"] in existing:
                conn.execute(
                    update(tags).where(tags.c.resource_arn == arn, tags.c.key == tag["Key"]).values(value=value)
                )
            else:
                conn.execute(insert(tags).values(resource_arn=arn, key=tag["Key"], value=value, position=next_position))
                existing[tag["Key"]] = next_position
                next_position += 1

    def add(self, ctx: RequestContext, arn: str, new_tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.db.write() as conn:
            arn = self._require_resource(conn, ctx, arn)
            self.put(conn, arn, new_tags)
        return new_tags

    def list(self, ctx: RequestContext, arn: str, max_results: int | None, next_token: str | None) -> dict[str, Any]:
        offset = decode_token(next_token)
        # ListTags' MaxResults has no maximum in the model; a resource never has more than 50 tags.
        limit = min(max_results or MAX_TAGS_PER_RESOURCE, MAX_TAGS_PER_RESOURCE)
        with self.db.read() as conn:
            arn = self._require_resource(conn, ctx, arn)
            rows = conn.execute(
                select(tags.c.key, tags.c.value)
                .where(tags.c.resource_arn == arn)
                .order_by(tags.c.position)
                .offset(offset)
                .limit(limit + 1)
            ).all()
        result: dict[str, Any] = {"Tags": [{"Key": r.key, "Value": r.value} for r in rows[:limit]]}
        if len(rows) > limit:
            result["NextToken"] = encode_token(offset + limit)
        return result

    def remove(self, ctx: RequestContext, arn: str, keys: list[str]) -> None:
        with self.db.write() as conn:
            arn = self._require_resource(conn, ctx, arn)
            conn.execute(delete(tags).where(tags.c.resource_arn == arn, tags.c.key.in_(keys)))

    def drop_all(self, conn: Connection, arn: str) -> None:
        conn.execute(delete(tags).where(tags.c.resource_arn == arn))

"""Resources that are a name, an ARN, a creation time and a stored request body: models, endpoint configs.

SageMaker answers for these with ValidationException, not ResourceNotFound/ResourceInUse:
`Could not find model "arn:..."`, `Cannot create already existing model "arn:..."`.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Row, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.errors import ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.lookup import find_named
from watchkeeper.services.tags import TagService
from watchkeeper.store import Database


class NamedResources:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tags: TagService,
        table: Table,
        *,
        arn_type: str,
        noun: str,
        member: str,  # the Name/Arn member prefix: "Model" → ModelName, ModelArn
    ) -> None:
        self.db = db
        self.clock = clock
        self.tags = tags
        self.table = table
        self.arn_type = arn_type
        self.noun = noun
        self.member = member

    def insert(self, conn: Connection, ctx: RequestContext, name: str, body: dict[str, Any]) -> str:
        arn = ctx.arn(self.arn_type, name)
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(self.table).values(
                        account=ctx.account,
                        region=ctx.region,
                        name=name,
                        name_key=name.lower(),
                        arn=arn,
                        creation_time=millis(self.clock.now()),
                        body=orjson.dumps(body).decode(),
                    )
                )
        except IntegrityError:
            raise ValidationError(f'Cannot create already existing {self.noun} "{arn}".') from None
        return arn

    def find(self, conn: Connection, ctx: RequestContext, name: str) -> Row[Any]:
        row = find_named(conn, self.table, ctx, name)
        if row is None:
            raise ValidationError(f'Could not find {self.noun} "{ctx.arn(self.arn_type, name)}".')
        return row

    def describe(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self.find(conn, ctx, name)
        return {
            f"{self.member}Name": row.name,
            f"{self.member}Arn": row.arn,
            "CreationTime": row.creation_time,
            **orjson.loads(row.body),
        }

    def delete(self, ctx: RequestContext, name: str) -> None:
        with self.db.write() as conn:
            row = self.find(conn, ctx, name)
            conn.execute(delete(self.table).where(self.table.c.id == row.id))
            self.tags.drop_all(conn, row.arn)

    def list(self, ctx: RequestContext, params: dict[str, Any], result_key: str) -> dict[str, Any]:
        t = self.table
        conditions = list_filters(t, ctx, params, times={"CreationTime": t.c.creation_time})
        with self.db.read() as conn:
            page = paginate(
                conn,
                select(t.c.name, t.c.arn, t.c.creation_time).where(*conditions),
                params,
                {"Name": t.c.name, "CreationTime": t.c.creation_time},
                t.c.id,
            )
        items = [
            {f"{self.member}Name": r.name, f"{self.member}Arn": r.arn, "CreationTime": r.creation_time}
            for r in page.rows
        ]
        return page.result(result_key, items)

"""Who owns a bucket of the object store, so that one account cannot read or write another's data.

The object store (`s3://bucket/key`: the embedded folder `<data_dir>/s3/<bucket>/<key>` or an S3-compatible
store) has no accounts of its own. Watchkeeper gives each bucket an owner in the database (`bucket_owners`):
the first account that names a bucket in a create or update call claims it, in the same transaction as the
resource it creates (a refused create claims nothing); any other account naming it is refused with a
`ValidationException` saying access is denied, as S3 answers `AccessDenied` for another account's bucket.

Bucket names are compared case-insensitively (the embedded store may sit on a case-insensitive filesystem,
and S3 itself allows only lower-case names), and buckets are global, as on S3: one owner for every region.
Buckets named by resources created before ownership existed are unclaimed until a create names them.
Operator paths (the CLI, and the jobs executions build from already-checked resources) claim nothing.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import millis
from watchkeeper.errors import ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.store.tables import bucket_owners


def owner_of(conn: Connection, bucket: str) -> str | None:
    """The account that owns `bucket`, or None while it is unclaimed."""
    return conn.execute(
        select(bucket_owners.c.account).where(bucket_owners.c.bucket == bucket.lower())
    ).scalar_one_or_none()


def access_denied(bucket: str, member: str, uri: str | None = None) -> ValidationError:
    return ValidationError(
        f"Access denied to {uri or f's3://{bucket}'} ({member}): bucket {bucket} belongs to another account"
    )


def claim_or_check(
    conn: Connection,
    ctx: RequestContext,
    bucket: str,
    member: str,
    uri: str | None = None,
    now: float | None = None,
) -> None:
    """Claim `bucket` for `ctx.account` if nobody owns it; refuse it if another account does.

    Runs inside the caller's write transaction, so the claim commits with the resource that names the
    bucket, or not at all. Two transactions claiming one bucket at once (PostgreSQL) are settled by the
    primary key: the loser's insert fails inside a savepoint and it reads the winner's claim.
    """
    owner = owner_of(conn, bucket)
    if owner is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(bucket_owners).values(
                        bucket=bucket.lower(),
                        account=ctx.account,
                        creation_time=millis(time.time() if now is None else now),
                    )
                )
            return
        except IntegrityError:
            owner = owner_of(conn, bucket)
    if owner != ctx.account:
        raise access_denied(bucket, member, uri)

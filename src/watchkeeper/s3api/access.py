"""Buckets through the S3 API, owned per account (services/buckets.py): an account sees and writes only
its own. A bucket exists when its folder does; its owner is the account that created or first named it.
A folder nobody owns yet (written by the capture writer or the command line) is claimed by the first
account that reaches it, as `services/buckets.py` claims a bucket first named in a create."""

from __future__ import annotations

import re
import shutil

from sqlalchemy import func, select

from watchkeeper.errors import ValidationError
from watchkeeper.s3api.errors import S3Error, access_denied, no_such_bucket
from watchkeeper.s3api.files import META_DIR, Files
from watchkeeper.services.buckets import claim_or_check, owner_of
from watchkeeper.services.context import RequestContext
from watchkeeper.store.database import Database
from watchkeeper.store.tables import bucket_owners

# S3's rule for new buckets; existing folders are reached by the embedded store's looser one.
NEW_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
ANY_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
MAX_BUCKETS_PER_ACCOUNT = 1000  # claims through the SageMaker API count too
IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")


class Buckets:
    def __init__(self, db: Database, files: Files) -> None:
        self.db, self.files = db, files

    def require(self, ctx: RequestContext, bucket: str) -> None:
        """The bucket exists and belongs to the caller's account, or S3's error."""
        if not ANY_BUCKET.fullmatch(bucket) or ".." in bucket:
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.", BucketName=bucket)
        with self.db.read() as conn:
            owner = owner_of(conn, bucket)
        if owner is not None and owner != ctx.account:
            raise access_denied()
        if not self.files.bucket_dir(bucket).is_dir():
            raise no_such_bucket(bucket)
        if owner is None:
            self._claim(ctx, bucket)

    def _claim(self, ctx: RequestContext, bucket: str) -> None:
        try:
            with self.db.write() as conn:
                claim_or_check(conn, ctx, bucket, "S3 API")
        except ValidationError:
            raise access_denied() from None

    def create(self, ctx: RequestContext, bucket: str) -> None:
        if not NEW_BUCKET.fullmatch(bucket) or IP_ADDRESS.fullmatch(bucket) or any(
            pair in bucket for pair in ("..", ".-", "-.")
        ):
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.", BucketName=bucket)
        with self.db.read() as conn:
            owner = owner_of(conn, bucket)
        if owner is not None and owner != ctx.account:
            raise S3Error("BucketAlreadyExists", "The requested bucket name is not available. The bucket "
                          "namespace is shared by all users of the system. Please select a different name and "
                          "try again.", 409, BucketName=bucket)
        folder = self.files.bucket_dir(bucket)
        if owner is not None and folder.is_dir():
            if ctx.region == "us-east-1":
                return  # us-east-1 answers 200 to its owner's repeated create, and changes nothing
            raise S3Error("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket "
                          "succeeded and you already own it.", 409, BucketName=bucket)
        with self.db.read() as conn:
            owned = conn.execute(
                select(func.count()).select_from(bucket_owners).where(bucket_owners.c.account == ctx.account)
            ).scalar_one()
        if owner is None and owned >= MAX_BUCKETS_PER_ACCOUNT:
            raise S3Error("TooManyBuckets", f"You have attempted to create more buckets than allowed "
                          f"({MAX_BUCKETS_PER_ACCOUNT} per account here).", BucketName=bucket)
        self._claim(ctx, bucket)  # the claim first: a folder is never left for another account to take
        folder.mkdir(parents=True, exist_ok=True)

    def delete(self, ctx: RequestContext, bucket: str) -> None:
        """The folder goes; the claim stays with the account, so resources that name the bucket (a capture
        destination, a schedule's outputs) can never write into another account's bucket of that name."""
        self.require(ctx, bucket)
        folder = self.files.bucket_dir(bucket)
        if any(folder.iterdir()):
            raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=bucket)
        folder.rmdir()
        shutil.rmtree(self.files.root / META_DIR / bucket, ignore_errors=True)

    def list(self, ctx: RequestContext) -> list[tuple[str, float]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(bucket_owners.c.bucket, bucket_owners.c.creation_time)
                .where(bucket_owners.c.account == ctx.account)
                .order_by(bucket_owners.c.bucket)
            ).all()
        return [(name, created) for name, created in rows if self.files.bucket_dir(name).is_dir()]

"""The S3 API on loopback with keys on: one 256 MiB PutObject (boto3 signs the SHA-256 over plain HTTP), a
multipart upload of it (16 MiB parts, 4 threads), a GetObject, a listing of 1,000 keys, HeadObject latency.

    .venv/bin/python bench/s3_api.py
"""

from __future__ import annotations

import io
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from boto3.s3.transfer import TransferConfig
from tests.server_process import ServerProcess

MIB = 1024 * 1024


def main() -> None:
    server = ServerProcess(
        pathlib.Path(tempfile.mkdtemp()), keys={"a": ("AKIABENCH0000000001", "bench-secret-000001", "111111111111")}
    ).start()
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="bench")
        data = os.urandom(256 * MIB)
        started = time.perf_counter()
        s3.put_object(Bucket="bench", Key="single", Body=data)
        single = time.perf_counter() - started
        config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=16 * MIB, max_concurrency=4)
        started = time.perf_counter()
        s3.upload_fileobj(io.BytesIO(data), "bench", "multi", Config=config)
        multi = time.perf_counter() - started
        started = time.perf_counter()
        assert s3.get_object(Bucket="bench", Key="single")["Body"].read() == data
        get = time.perf_counter() - started
        for k in range(1000):
            s3.put_object(Bucket="bench", Key=f"many/{k:04d}", Body=b"x")
        started = time.perf_counter()
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix="many/")
        assert sum(len(page.get("Contents", [])) for page in pages) == 1000
        listing = time.perf_counter() - started
        started = time.perf_counter()
        for k in range(200):
            s3.head_object(Bucket="bench", Key=f"many/{k:04d}")
        head = (time.perf_counter() - started) / 200
        print(
            f"PutObject 256 MiB: {single:.2f} s ({256 / single:.0f} MiB/s); multipart 16 MiB x4: {multi:.2f} s "
            f"({256 / multi:.0f} MiB/s); GetObject: {get:.2f} s ({256 / get:.0f} MiB/s); "
            f"list 1,000 keys: {listing * 1000:.0f} ms; HeadObject: {head * 1000:.1f} ms"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()

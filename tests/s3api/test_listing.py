"""ListObjects v1 and v2 against an independent model of S3's listing: sorted keys, prefix, delimiter grouping,
pages of max-keys joined by continuation, with boto3's own paginators and url encoding."""

from __future__ import annotations

from typing import Any

import pytest

from tests.s3api.conftest import error_of

# No key is both an object and a "folder" of others: the embedded store is a file tree (docs/s3.md).
KEYS = sorted(["a.txt", "a-b/c", "a/b/c.csv", "a/b/d.csv", "a/e", "a0", "b/x y+z.json", "b/ü/1", "c/d/e/f/g", "z"])


def model(prefix: str, delimiter: str) -> tuple[list[str], list[str]]:
    """S3's answer, computed from the key list alone."""
    objects, prefixes = [], []
    for key in sorted(KEYS):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if delimiter and delimiter in rest:
            common = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if common not in prefixes:
                prefixes.append(common)
        else:
            objects.append(key)
    return objects, prefixes


@pytest.fixture(scope="module")
def listed(s3: Any) -> str:
    import uuid

    name = f"list-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    for key in KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/b/", "b/", "c/d", "nothing"])
@pytest.mark.parametrize("delimiter", ["", "/", "b"])
@pytest.mark.parametrize("page_size", [1, 2, 1000])
def test_v2_pages_equal_the_model(s3: Any, listed: str, prefix: str, delimiter: str, page_size: int) -> None:
    objects, prefixes = [], []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=listed, Prefix=prefix, Delimiter=delimiter, PaginationConfig={"PageSize": page_size})
    for page in pages:
        assert page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        assert page["KeyCount"] <= page_size
        objects += [item["Key"] for item in page.get("Contents", [])]
        prefixes += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
    assert (objects, prefixes) == model(prefix, delimiter)


@pytest.mark.parametrize(("prefix", "delimiter"), [("", "/"), ("a/", "/"), ("", "")])
def test_v1_pages_equal_the_model(s3: Any, listed: str, prefix: str, delimiter: str) -> None:
    objects, prefixes = [], []
    for page in s3.get_paginator("list_objects").paginate(
        Bucket=listed, Prefix=prefix, Delimiter=delimiter, PaginationConfig={"PageSize": 2}
    ):
        objects += [item["Key"] for item in page.get("Contents", [])]
        prefixes += [item["Prefix"] for item in page.get("CommonPrefixes", [])]
    assert (objects, prefixes) == model(prefix, delimiter)


def test_listing_details(s3: Any, listed: str) -> None:
    page = s3.list_objects_v2(Bucket=listed, Prefix="b/", StartAfter="b/x y+z.json")
    assert [item["Key"] for item in page["Contents"]] == ["b/ü/1"]
    item = page["Contents"][0]
    assert item["Size"] == len("b/ü/1".encode()) and item["ETag"].startswith('"')
    assert s3.list_objects_v2(Bucket=listed, MaxKeys=0)["KeyCount"] == 0
    truncated = s3.list_objects(Bucket=listed, MaxKeys=3)
    assert truncated["IsTruncated"] and [c["Key"] for c in truncated["Contents"]] == sorted(KEYS)[:3]
    assert error_of(s3.list_objects_v2, Bucket="missing-bucket-x")["Error"]["Code"] == "NoSuchBucket"
    # boto3 asks for url-encoded names and decodes them; a prefix of a control character survives both ways.
    for call in (s3.list_objects, s3.list_objects_v2):
        odd = call(Bucket=listed, Prefix="\n", Delimiter="/")
        assert (odd["Prefix"], odd.get("Contents"), odd.get("CommonPrefixes")) == ("\n", None, None)

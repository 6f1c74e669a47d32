"""The ObjectStore contract, run against both stores: the embedded folder and moto's S3 server."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest

from tests.s3_server import s3_store
from watchkeeper.config import Settings
from watchkeeper.storage import (
    InvalidKey,
    InvalidUri,
    LocalObjectStore,
    NoSuchKey,
    ObjectStore,
    download_prefix,
    open_store,
    upload_dir,
)
from watchkeeper.storage.s3 import S3ObjectStore

StoreFactory = Callable[..., tuple[ObjectStore, str]]


@pytest.fixture(params=["local", "s3"])
def make_store(request: pytest.FixtureRequest, tmp_path) -> StoreFactory:  # type: ignore[no-untyped-def]
    """Build a store of the parametrised kind and return it with a bucket to use."""

    def make(**s3_kwargs: object) -> tuple[ObjectStore, str]:
        if request.param == "local":
            return LocalObjectStore(tmp_path / "s3"), "bucket"
        return s3_store(request.getfixturevalue("s3_endpoint"), **s3_kwargs)

    return make


@pytest.fixture
def store_and_bucket(make_store: StoreFactory) -> tuple[ObjectStore, str]:
    return make_store()


def test_both_implement_the_protocol(store_and_bucket) -> None:
    store, _ = store_and_bucket
    assert isinstance(store, ObjectStore)


def test_round_trip_and_overwrite(store_and_bucket) -> None:
    store, b = store_and_bucket
    uri = f"s3://{b}/data/x.jsonl"
    payload = bytes(range(256)) * 10
    store.put_bytes(uri, payload)
    assert store.get_bytes(uri) == payload
    assert store.exists(uri)
    store.put_bytes(uri, b"second")
    assert store.get_bytes(uri) == b"second"
    store.put_bytes(f"s3://{b}/empty", b"")
    assert store.get_bytes(f"s3://{b}/empty") == b""


def test_unicode_and_odd_but_legal_keys(store_and_bucket) -> None:
    store, b = store_and_bucket
    for key in ["données/é.csv", "a b/c+d=e.json", "2024/01/01/00/00-00-000-x.jsonl", "%2e%2e/x", "..x/y.."]:
        store.put_bytes(f"s3://{b}/{key}", key.encode())
        assert store.get_bytes(f"s3://{b}/{key}") == key.encode()


def test_open_read_streams(store_and_bucket) -> None:
    store, b = store_and_bucket
    payload = random.Random(1).randbytes(3 * 1024 * 1024 + 17)
    store.put_bytes(f"s3://{b}/big.bin", payload)
    chunks = []
    with store.open_read(f"s3://{b}/big.bin") as f:
        while chunk := f.read(1 << 20):
            assert len(chunk) <= 1 << 20
            chunks.append(chunk)
    assert b"".join(chunks) == payload
    assert len(chunks) >= 4


def test_missing_objects(store_and_bucket) -> None:
    store, b = store_and_bucket
    store.put_bytes(f"s3://{b}/dir/file", b"x")
    for uri in [f"s3://{b}/nothing", f"s3://{b}/dir", f"s3://{b}/dir/file/below"]:
        with pytest.raises(NoSuchKey, match="no object"):
            store.get_bytes(uri)
        with pytest.raises(NoSuchKey):
            store.open_read(uri)
        assert not store.exists(uri)


def test_delete(store_and_bucket) -> None:
    store, b = store_and_bucket
    store.put_bytes(f"s3://{b}/a/b/c", b"1")
    store.put_bytes(f"s3://{b}/a/d", b"2")
    store.delete(f"s3://{b}/a/b/c")
    assert not store.exists(f"s3://{b}/a/b/c")
    store.delete(f"s3://{b}/a/b/c")  # deleting twice is fine, as in S3
    store.delete(f"s3://{b}/never/was")
    assert [o.uri for o in store.list(f"s3://{b}/")] == [f"s3://{b}/a/d"]
    # The emptied "folder" does not get in the way of an object of that name.
    store.put_bytes(f"s3://{b}/a/b", b"3")
    assert store.get_bytes(f"s3://{b}/a/b") == b"3"


KEYS = ["a", "a-b", "a/x", "a/b/c", "a/b/d", "a0", "ab", "b/z", "données", "z/€", "A", "_"]


def test_listing_is_in_key_order(store_and_bucket) -> None:
    store, b = store_and_bucket
    keys = [k for k in KEYS if k != "a"]  # the embedded store cannot hold "a" beside "a/x"
    for key in random.Random(7).sample(keys, len(keys)):
        store.put_bytes(f"s3://{b}/{key}", key.encode() * 3)
    listed = list(store.list(f"s3://{b}"))
    assert [o.uri for o in listed] == [f"s3://{b}/{k}" for k in sorted(keys, key=lambda k: k.encode())]
    assert [o.size for o in listed] == [len(k.encode()) * 3 for k in sorted(keys, key=lambda k: k.encode())]
    now = time.time()
    assert all(now - 120 < o.last_modified <= now + 5 for o in listed)


def test_listing_by_prefix_is_a_string_prefix(store_and_bucket) -> None:
    store, b = store_and_bucket
    for key in ["data/train.csv", "data/tree/x", "data/tr", "data/validation.csv", "database", "other/data"]:
        store.put_bytes(f"s3://{b}/{key}", b"x")

    def keys(prefix: str) -> list[str]:
        return [o.uri.removeprefix(f"s3://{b}/") for o in store.list(f"s3://{b}/{prefix}")]

    assert keys("data/tr") == ["data/tr", "data/train.csv", "data/tree/x"]
    assert keys("data/") == ["data/tr", "data/train.csv", "data/tree/x", "data/validation.csv"]
    assert keys("data") == ["data/tr", "data/train.csv", "data/tree/x", "data/validation.csv", "database"]
    assert keys("data/tree/") == ["data/tree/x"]
    assert keys("nothing/") == []
    assert keys("data/tree/x") == ["data/tree/x"]
    assert keys("") == [*keys("data"), "other/data"]


def test_listing_pages(make_store: StoreFactory) -> None:
    store, b = make_store(list_page_size=7)
    expected = [f"s3://{b}/p/{i:03d}" for i in range(25)]
    for uri in reversed(expected):
        store.put_bytes(uri, b"")
    assert [o.uri for o in store.list(f"s3://{b}/p/")] == expected


def test_listing_is_lazy(store_and_bucket) -> None:
    store, b = store_and_bucket
    store.put_bytes(f"s3://{b}/k", b"")
    iterator = store.list(f"s3://{b}/")
    assert next(iter(iterator)).uri == f"s3://{b}/k"


@pytest.mark.parametrize(
    "uri",
    ["", "bucket/key", "S3://bucket/key", "s3:/bucket/key", "http://bucket/key", "s3://", "s3:///key", "s3://../x",
     "s3://./x", "s3://.hidden/x", "s3://b@d/x", "s3://a..b/x", "s3://bu cket/x"],
)
def test_uris_that_are_not_s3_uris(store_and_bucket, uri: str) -> None:
    store, _ = store_and_bucket
    with pytest.raises(InvalidUri):
        store.put_bytes(uri, b"x")
    with pytest.raises(InvalidUri):
        store.list(uri)


def test_uris_that_name_folders_are_not_objects(store_and_bucket) -> None:
    store, b = store_and_bucket
    for uri in [f"s3://{b}", f"s3://{b}/", f"s3://{b}/dir/"]:
        with pytest.raises(InvalidKey, match="folder"):
            store.put_bytes(uri, b"x")
        with pytest.raises(InvalidKey):
            store.get_bytes(uri)


def test_key_length_limit(store_and_bucket) -> None:
    store, b = store_and_bucket
    with pytest.raises(InvalidKey, match="1024"):
        store.put_bytes(f"s3://{b}/" + "k" * 1025, b"")


def test_concurrent_overwrites_are_atomic(store_and_bucket) -> None:
    """Readers racing writers only ever see one whole version of the object."""
    store, b = store_and_bucket
    uri = f"s3://{b}/racy"
    versions = [bytes([i]) * 200_000 for i in range(8)]
    store.put_bytes(uri, versions[0])
    stop = threading.Event()
    seen: set[bytes] = set()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                data = store.get_bytes(uri)
                assert data in versions
                seen.add(data[:1])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def writer(i: int) -> None:
        for _ in range(5):
            store.put_bytes(uri, versions[i])

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors
    assert store.get_bytes(uri) in versions


def test_upload_dir_then_download_prefix(store_and_bucket, tmp_path) -> None:
    store, b = store_and_bucket
    src = tmp_path / "src"
    for rel, data in {"statistics.json": b"{}", "sub/a.csv": b"1,2", "sub/deeper/b.bin": b"\0\1"}.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    uris = upload_dir(store, src, f"s3://{b}/out/")
    assert uris == [
        f"s3://{b}/out/statistics.json",
        f"s3://{b}/out/sub/a.csv",
        f"s3://{b}/out/sub/deeper/b.bin",
    ]
    dst = tmp_path / "dst"
    files = download_prefix(store, f"s3://{b}/out", dst)
    relative = [f.relative_to(dst).as_posix() for f in files]
    assert relative == ["statistics.json", "sub/a.csv", "sub/deeper/b.bin"]
    assert (dst / "sub/deeper/b.bin").read_bytes() == b"\0\1"


def test_download_prefix_layout(store_and_bucket, tmp_path) -> None:
    store, b = store_and_bucket
    for key in ["data/train.csv", "data/train/part-0.csv", "data/train/x/part-1.csv"]:
        store.put_bytes(f"s3://{b}/{key}", key.encode())

    def rel(uri: str, where: str) -> list[str]:
        files = download_prefix(store, uri, tmp_path / where)
        return [p.relative_to(tmp_path / where).as_posix() for p in files]

    # A folder URI: keys below it.
    assert rel(f"s3://{b}/data/train/", "f") == ["part-0.csv", "x/part-1.csv"]
    # A single-object URI: its file name.
    assert rel(f"s3://{b}/data/train.csv", "o") == ["train.csv"]
    # Without the slash: the folder's contents, and the partial match by its own name.
    assert rel(f"s3://{b}/data/train", "p") == ["train.csv", "part-0.csv", "x/part-1.csv"]
    assert (tmp_path / "p/x/part-1.csv").read_bytes() == b"data/train/x/part-1.csv"


def test_open_store_follows_settings(tmp_path) -> None:
    local = open_store(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalObjectStore)
    assert local.root == (tmp_path / "s3").resolve()
    s3 = open_store(Settings(data_dir=tmp_path, s3_endpoint_url="http://127.0.0.1:9", s3_access_key_id="k"))
    assert isinstance(s3, S3ObjectStore)
    assert s3.client.meta.endpoint_url == "http://127.0.0.1:9"


def test_put_file_streams_a_path_or_a_file_object(store_and_bucket, tmp_path) -> None:
    store, b = store_and_bucket
    big = tmp_path / "big.bin"
    payload = random.Random(7).randbytes(9 * 1024 * 1024 + 17)  # past the S3 multipart threshold (8 MB)
    big.write_bytes(payload)
    store.put_file(f"s3://{b}/files/from-path", big)
    assert store.get_bytes(f"s3://{b}/files/from-path") == payload
    with open(big, "rb") as source:
        store.put_file(f"s3://{b}/files/from-object", source)
    assert store.get_bytes(f"s3://{b}/files/from-object") == payload
    (tmp_path / "empty").write_bytes(b"")
    store.put_file(f"s3://{b}/files/empty", tmp_path / "empty")
    assert store.get_bytes(f"s3://{b}/files/empty") == b""


def test_upload_dir_skips_links_and_special_files(store_and_bucket, tmp_path) -> None:
    import os

    store, b = store_and_bucket
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret").write_text("host file")
    (outside / "dir" / "inner").write_text("host folder")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "real.txt").write_text("kept")
    (src / "link").symlink_to(outside / "secret")
    (src / "folder-link").symlink_to(outside / "dir")
    os.mkfifo(src / "pipe")
    (src / "hard").hardlink_to(outside / "secret")
    skipped: list[tuple[str, str]] = []
    assert upload_dir(store, src, f"s3://{b}/safe", skipped=skipped) == [f"s3://{b}/safe/sub/real.txt"]
    assert sorted(skipped) == [("folder-link", "symlink"), ("hard", "hard link"), ("link", "symlink"),
                               ("pipe", "fifo")]

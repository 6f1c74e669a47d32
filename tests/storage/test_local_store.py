"""What only the embedded store does: files under ROOT/BUCKET/KEY, keys that cannot escape, atomic renames."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from watchkeeper.storage import InvalidKey, InvalidUri, LocalObjectStore, StorageError, download_prefix

ESCAPES = [
    "s3://b/../outside",
    "s3://b/../../outside",
    "s3://b/a/../../../outside",
    "s3://b/a/..",
    "s3://b/..",
    "s3://b/.",
    "s3://b/./a",
    "s3://b//etc/passwd",  # absolute
    "s3://b///outside",
    "s3://b/a//b",
    "s3://b/a\\..\\..\\outside",  # backslash tricks
    "s3://b/..\\outside",
    "s3://b/a\\b",
    "s3://b/a\x00b",  # NUL
    "s3://b/a/\x00",
    "s3://b/new\nline",
    "s3:///outside",  # empty bucket
    "s3://../outside",
    "s3://./outside",
    "s3://.tmp/x",  # the store's own temp folder is no bucket
    "s3://b\\..\\x/k",
    "s3://" + "b" * 256 + "/k",
    "s3://b/" + "x" * 256,  # a segment longer than a file name
]


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "root")


def _outside_files(tmp_path: Path) -> set[Path]:
    return {p for p in tmp_path.rglob("*") if "root" not in p.relative_to(tmp_path).parts}


def test_uri_maps_to_a_file_under_root(store: LocalObjectStore, tmp_path: Path) -> None:
    store.put_bytes("s3://my-bucket/a/b/c.jsonl", b"hello")
    path = tmp_path / "root" / "my-bucket" / "a" / "b" / "c.jsonl"
    assert path.read_bytes() == b"hello"
    assert store.path_for("s3://my-bucket/a/b/c.jsonl") == path


@pytest.mark.parametrize("uri", ESCAPES)
def test_every_escape_is_refused(store: LocalObjectStore, tmp_path: Path, uri: str) -> None:
    before = _outside_files(tmp_path)
    operations = [
        lambda: store.put_bytes(uri, b"x"),
        lambda: store.get_bytes(uri),
        lambda: store.open_read(uri),
        lambda: store.exists(uri),
        lambda: store.delete(uri),
    ]
    for operation in operations:
        with pytest.raises((InvalidKey, InvalidUri)):
            operation()
    assert _outside_files(tmp_path) == before
    assert not list((tmp_path / "root" / ".tmp").iterdir())


@pytest.mark.parametrize(
    "prefix",
    ["s3://b/../", "s3://b/../x", "s3://b/a/../", "s3://b/./", "s3://b//x", "s3://b/a\\b/", "s3://b/x\x00",
     "s3://b/a\\..", "s3:///x", "s3://../"],
)
def test_listing_prefixes_that_escape_are_refused(store: LocalObjectStore, prefix: str) -> None:
    with pytest.raises((InvalidKey, InvalidUri)):
        list(store.list(prefix))


def test_a_partial_last_segment_only_filters(store: LocalObjectStore) -> None:
    """`s3://b/a/..` lists keys in `a/` whose name starts with '..': it cannot climb out of `a/`."""
    store.put_bytes("s3://b/a/..x", b"1")
    store.put_bytes("s3://b/outside", b"2")
    assert [o.uri for o in store.list("s3://b/a/..")] == ["s3://b/a/..x"]


def test_symlink_out_of_the_root_is_refused(store: LocalObjectStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "root" / "b").mkdir(parents=True)
    os.symlink(outside, tmp_path / "root" / "b" / "link")
    with pytest.raises(InvalidKey, match="outside"):
        store.put_bytes("s3://b/link/x", b"x")
    with pytest.raises(InvalidKey):
        store.get_bytes("s3://b/link/x")
    assert list(outside.iterdir()) == []
    assert list(store.list("s3://b/")) == []  # listing does not follow links


def test_write_is_atomic_when_it_fails(store: LocalObjectStore, tmp_path: Path, monkeypatch) -> None:
    store.put_bytes("s3://b/k", b"old")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StorageError, match=r"cannot write 's3://b/k' .*No space left on device"):
        store.put_bytes("s3://b/k", b"new" * 1000)
    monkeypatch.undo()
    assert store.get_bytes("s3://b/k") == b"old"
    assert not list((tmp_path / "root" / ".tmp").iterdir()), "the temp file was left behind"


def test_a_write_in_progress_is_invisible(store: LocalObjectStore, tmp_path: Path, monkeypatch) -> None:
    seen: list[list[str]] = []
    real_replace = os.replace

    def observing_replace(src: str, dst: str) -> None:
        seen.append([o.uri for o in store.list("s3://b/")])
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", observing_replace)
    store.put_bytes("s3://b/k", b"data")
    assert seen == [[]]
    assert [o.uri for o in store.list("s3://b/")] == ["s3://b/k"]


def test_object_and_folder_of_the_same_name(store: LocalObjectStore) -> None:
    store.put_bytes("s3://b/a/b", b"1")
    with pytest.raises(InvalidKey, match="other objects exist"):
        store.put_bytes("s3://b/a", b"2")
    with pytest.raises(InvalidKey, match="already an object"):
        store.put_bytes("s3://b/a/b/c", b"3")
    assert store.get_bytes("s3://b/a/b") == b"1"


def test_delete_prunes_empty_folders_but_not_the_bucket(store: LocalObjectStore, tmp_path: Path) -> None:
    store.put_bytes("s3://b/x/y/z", b"1")
    store.put_bytes("s3://b/x/w", b"2")
    store.delete("s3://b/x/y/z")
    assert not (tmp_path / "root/b/x/y").exists()
    assert (tmp_path / "root/b/x/w").exists()
    store.delete("s3://b/x/w")
    assert (tmp_path / "root/b").is_dir()
    assert not (tmp_path / "root/b/x").exists()


def test_files_are_readable_per_umask(store: LocalObjectStore, tmp_path: Path) -> None:
    store.put_bytes("s3://b/k", b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "root/b/k").stat().st_mode & 0o777 == 0o666 & ~mask


def test_missing_bucket_lists_nothing(store: LocalObjectStore) -> None:
    assert list(store.list("s3://never-created/")) == []


def test_download_refuses_keys_that_would_escape(tmp_path: Path) -> None:
    """A store that holds S3-legal keys such as `../x` must not make download_prefix write outside."""

    class FakeStore(LocalObjectStore):
        def list(self, prefix_uri: str):  # type: ignore[no-untyped-def]
            from watchkeeper.storage import ObjectInfo

            yield ObjectInfo("s3://b/p/../../evil", 1, 0.0)

    with pytest.raises(InvalidKey, match=r"'\.\.'"):
        download_prefix(FakeStore(tmp_path / "root"), "s3://b/p/", tmp_path / "dl")
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "dl").exists()


def test_storage_errors_share_one_base() -> None:
    assert issubclass(InvalidKey, StorageError)
    assert issubclass(InvalidUri, StorageError)

"""Keys of a bucket folder in S3's order (UTF-8 byte order = Python's str order), from a point on.

A walk skips whole folders that lie before `after` (every key under `p/` is smaller than `after` when `p/`
is and `after` does not start with it), so each page of a large listing costs about that page, not the
keys before it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from watchkeeper.s3api.files import Stat, stat_of


def walk(bucket_dir: Path, prefix: str, after: str) -> Iterator[tuple[str, Stat]]:
    """(key, stat) of every regular file under `bucket_dir` whose key starts with `prefix` and is > `after`."""
    folder, _, _ = prefix.rpartition("/")
    start = bucket_dir.joinpath(*folder.split("/")) if folder else bucket_dir
    yield from _walk(start, folder + "/" if folder else "", prefix, after)


def _walk(folder: Path | str, key_prefix: str, prefix: str, after: str) -> Iterator[tuple[str, Stat]]:
    try:
        with os.scandir(folder) as it:
            entries = []
            for entry in it:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    entries.append((key_prefix + entry.name + "/", entry))
                elif entry.is_file(follow_symlinks=False):
                    entries.append((key_prefix + entry.name, entry))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return
    entries.sort(key=lambda pair: pair[0])
    for key, entry in entries:
        if key.endswith("/"):
            if not (key.startswith(prefix) or prefix.startswith(key)):
                continue
            if key < after and not after.startswith(key):
                continue  # the whole folder lies before `after`
            yield from _walk(entry.path, key, prefix, after)
            continue
        if not key.startswith(prefix) or key <= after:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # deleted while listing
            continue
        yield key, stat_of(st)


def page(
    bucket_dir: Path, prefix: str, delimiter: str, after: str, max_keys: int
) -> tuple[list[tuple[str, Stat]], list[str], bool]:
    """(objects, common prefixes, truncated): at most `max_keys` of both together, after `after`."""
    objects: list[tuple[str, Stat]] = []
    prefixes: list[str] = []
    if max_keys <= 0:
        return objects, prefixes, False
    walker = walk(bucket_dir, prefix, after)
    while True:
        restart = None
        for key, st in walker:
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if common <= after or (prefixes and prefixes[-1] == common):
                    continue
                if len(objects) + len(prefixes) == max_keys:
                    return objects, prefixes, True
                prefixes.append(common)
                restart = common + "\U0010ffff"  # skip the rest of what this prefix groups
                break
            if len(objects) + len(prefixes) == max_keys:
                return objects, prefixes, True
            objects.append((key, st))
        if restart is None:
            return objects, prefixes, False
        walker = walk(bucket_dir, prefix, restart)

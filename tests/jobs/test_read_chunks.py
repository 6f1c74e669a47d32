"""A large file is read in chunks cut at the last line end before each multiple of the chunk size (the rule
the Dask partitions follow too), from the mapped file."""

from __future__ import annotations

import random

import pytest

from watchkeeper.capture.reader import FilePart
from watchkeeper.jobs.toolkit.inputs import _read_chunks, file_contents


def rule(data: bytes, step: int) -> list[bytes]:
    """The rule stated block by block: read `step` bytes, cut after the last line end of what is pending,
    keep the rest for the next block; what is left at the end is the last chunk."""
    chunks, rest = [], b""
    for offset in range(0, len(data), step):
        block = rest + data[offset:offset + step]
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest = block
            continue
        chunks.append(block[:cut])
        rest = block[cut:]
    return [*chunks, rest] if rest else chunks


@pytest.mark.parametrize(("data", "step", "want"), [
    (b"ab\ncd\nef", 4, [b"ab\n", b"cd\n", b"ef"]),
    (b"ab\ncd\n", 4, [b"ab\n", b"cd\n"]),
    (b"abcdefgh", 3, [b"abcdefgh"]),
    (b"a\n" + b"y" * 10 + b"\nb\n", 4, [b"a\n", b"y" * 10 + b"\nb\n"]),  # no line end in 3 steps: joined
    (b"", 4, []),
])
def test_chunks_end_at_the_last_line_end_before_each_step(tmp_path, data, step, want):
    path = tmp_path / "f"
    path.write_bytes(data)
    assert list(_read_chunks(path, step)) == want


def test_the_rule_holds_for_random_files(tmp_path):
    generator = random.Random(13)
    path = tmp_path / "f"
    for _ in range(400):
        size = generator.choice([1, 7, 60, 700, 5000])
        data = bytes(generator.choice(b"ab\n" if generator.random() < 0.7 else b"xyz") for _ in range(size))
        path.write_bytes(data)
        for step in (1, 2, 5, 64, 1000):
            assert list(_read_chunks(path, step)) == rule(data, step), (data, step)


def test_later_parts_of_a_large_file_are_marked_as_parts_of_the_same_file(tmp_path):
    small, large = tmp_path / "a", tmp_path / "b"
    small.write_bytes(b"one line\n")
    large.write_bytes(b"".join(b"line %d\n" % i for i in range(100)))
    contents = list(file_contents([small, large], None, part_bytes=64))
    assert type(contents[0]) is bytes and type(contents[1]) is bytes  # a whole file, a large file's first part
    assert len(contents) > 4 and all(isinstance(content, FilePart) for content in contents[2:])
    assert b"".join(content.data if isinstance(content, FilePart) else content for content in contents[1:]) \
        == large.read_bytes()

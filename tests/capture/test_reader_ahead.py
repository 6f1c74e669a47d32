"""Batches are made one ahead on a thread (`capture/reader.py: ahead`): errors reach the caller, and a
caller that stops early stops the thread instead of leaving it blocked."""

from __future__ import annotations

import threading

import pytest

from watchkeeper.capture.reader import ahead


def test_items_arrive_in_order():
    assert list(ahead(iter(range(50)))) == list(range(50))


def test_an_error_while_making_reaches_the_caller_after_the_items_before_it():
    def items():
        yield 1
        raise ValueError("bad file")

    seen = []
    with pytest.raises(ValueError, match="bad file"):
        for item in ahead(items()):
            seen.append(item)
    assert seen == [1]


def test_a_caller_that_stops_early_stops_the_maker():
    closed = threading.Event()

    def items():
        try:
            yield from range(1000)
        finally:
            closed.set()

    for item in ahead(items()):
        if item == 2:
            break
    assert closed.wait(5)
    assert not any(thread.name == "capture-batches" for thread in threading.enumerate())

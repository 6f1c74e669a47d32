"""The one polling helper of the suite: call, until a condition holds or the time is up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(
    check: Callable[[], T], until: Callable[[T], object] = bool, timeout: float = 20.0, interval: float = 0.1
) -> T:
    """The first value of `check()` for which `until` holds, or the last one when `timeout` passes (the caller
    asserts on it, so a failure shows what was seen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)

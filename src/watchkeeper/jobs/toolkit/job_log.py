"""The job's log."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import TextIO


class JobLog:
    """The job's log: a text stream (stderr by default) that scripts' prints and tracebacks go to."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.logger = logging.getLogger(f"watchkeeper.job.{id(self)}")
        self.logger.propagate = False
        handler = logging.StreamHandler(self.stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger.handlers = [handler]
        self.logger.setLevel(logging.INFO)

    def info(self, message: str) -> None:
        self.stream.write(message.rstrip("\n") + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        """Send prints of the code run inside to the log."""
        with contextlib.redirect_stdout(self.stream), contextlib.redirect_stderr(self.stream):
            yield

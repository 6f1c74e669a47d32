"""What the containers' handlers share: the answer they give and the media type of a header."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media_type: str


def media_type(header: str | None) -> str:
    """`text/csv; charset=utf-8` → `text/csv`."""
    return (header or "").split(";", 1)[0].strip().lower()

"""Jinja2 templates of the package (autoescaped), and the stylesheet the report inlines."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("watchkeeper.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["when"] = when
    env.filters["pct"] = lambda v: f"{v:.1%}" if isinstance(v, int | float) else ""
    return env


def fmt(value: Any) -> str:
    """Numbers short enough to read in a table; anything else as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def when(epoch: Any) -> str:
    """A time as the pages show it: UTC to the second."""
    if isinstance(epoch, datetime):
        return epoch.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if epoch is None:
        return ""
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


@cache
def stylesheet() -> str:
    return resources.files("watchkeeper.web").joinpath("static/dashboard.css").read_text(encoding="utf-8")

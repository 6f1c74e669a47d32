"""Inline SVG charts drawn on the server: no JavaScript, styled by class (static/dashboard.css), so the same
markup serves the dashboard and the self-contained report. Every text is escaped here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from watchkeeper.web.distributions import Cdf

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 30, 12, 34


def _fmt(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 1e-3:
        return f"{value:.2e}"
    return f"{value:.4g}"


def _scale(lo: float, hi: float, a: float, b: float):  # type: ignore[no-untyped-def]
    span = hi - lo or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _frame(title: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _axes(x0: float, x1: float, y_ticks: Sequence[tuple[float, str]], x_ticks: Sequence[tuple[float, str]],
          width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    out = [f'<line class="axis" x1="{LEFT}" y1="{height - BOTTOM}" x2="{width - RIGHT}" y2="{height - BOTTOM}"/>',
           f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{height - BOTTOM}"/>']
    for y, label in y_ticks:
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{escape(label)}</text>')
    for x, label in x_ticks:
        out.append(f'<text class="tick" x="{x:.1f}" y="{height - BOTTOM + 14}" text-anchor="middle">'
                   f'{escape(label)}</text>')
    return out


def _legend(entries: Sequence[tuple[str, str]], width: int = WIDTH) -> list[str]:
    out = []
    x = LEFT + 8
    for css, label in entries:
        out.append(f'<rect class="{css}" x="{x}" y="{TOP + 2}" width="10" height="10"/>'
                   f'<text class="legend" x="{x + 14}" y="{TOP + 11}">{escape(label)}</text>')
        x += 14 + 7 * len(label) + 16
    return out


def cdf_chart(title: str, baseline: Cdf | None, current: Cdf | None) -> str:
    """Baseline and current CDFs of one numerical feature on one x range (step lines)."""
    series = [(css, label, cdf) for css, label, cdf in
              (("baseline", "baseline", baseline), ("current", "current", current)) if cdf and cdf.xs]
    if not series:
        return _frame(title, ['<text class="empty" x="20" y="40">no distribution</text>'])
    lo = min(c.xs[0] for _, _, c in series)
    hi = max(c.xs[-1] for _, _, c in series)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    sx = _scale(lo, hi, LEFT, WIDTH - RIGHT)
    sy = _scale(0.0, 1.0, HEIGHT - BOTTOM, TOP + 16)
    body = _axes(lo, hi, [(sy(p), f"{p:.2f}") for p in (0.0, 0.25, 0.5, 0.75, 1.0)],
                 [(sx(lo + (hi - lo) * i / 4), _fmt(lo + (hi - lo) * i / 4)) for i in range(5)])
    for css, _, cdf in series:
        points = [f"{sx(cdf.xs[0]):.1f},{sy(0.0):.1f}"]
        previous = 0.0
        for x, p in zip(cdf.xs, cdf.ps, strict=True):
            points.append(f"{sx(x):.1f},{sy(previous):.1f}")
            points.append(f"{sx(x):.1f},{sy(p):.1f}")
            previous = p
        points.append(f"{sx(hi):.1f},{sy(previous):.1f}")
        body.append(f'<polyline class="line {css}" points="{" ".join(points)}"/>')
    body.extend(_legend([(css, label) for css, label, _ in series]))
    return _frame(title, body)


def bars_chart(title: str, categories: Sequence[tuple[str, float | None, float | None]]) -> str:
    """Grouped horizontal bars: each category's share of the baseline and of the current values."""
    if not categories:
        return _frame(title, ['<text class="empty" x="20" y="40">no categories</text>'])
    row = 26
    height = TOP + 18 + row * len(categories) + 8
    left = 150
    sx = _scale(0.0, 1.0, left, WIDTH - RIGHT - 40)
    body = _legend([("baseline", "baseline"), ("current", "current")])
    for i, (value, base, current) in enumerate(categories):
        y = TOP + 20 + i * row
        label = value if len(value) <= 22 else value[:21] + "…"
        body.append(f'<text class="tick" x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        for j, (css, share) in enumerate((("baseline", base), ("current", current))):
            if share is None:
                continue
            w = sx(share) - left
            body.append(f'<rect class="{css}" x="{left}" y="{y + j * 10}" width="{w:.1f}" height="9">'
                        f'<title>{escape(value)} {css}: {share:.1%}</title></rect>')
            body.append(f'<text class="tick" x="{left + w + 4:.1f}" y="{y + j * 10 + 8}">{share:.1%}</text>')
    return _frame(title, body, height=height)


def _time_ticks(lo: float, hi: float, sx) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    span = hi - lo
    fmt = "%H:%M" if span <= 86400 else "%m-%d %H:%M" if span <= 7 * 86400 else "%Y-%m-%d"
    return [(sx(lo + span * i / 4), datetime.fromtimestamp(lo + span * i / 4, UTC).strftime(fmt)) for i in range(5)]


def line_chart(title: str, series: Sequence[tuple[str, Sequence[tuple[float, float]]]]) -> str:
    """Values over time, one line per series (its label in the legend); x is epoch seconds, shown in UTC."""
    series = [(label, [p for p in points if math.isfinite(p[1])]) for label, points in series]
    series = [(label, points) for label, points in series if points]
    if not series:
        return _frame(title, ['<text class="empty" x="20" y="40">no data points</text>'])
    ts = [t for _, points in series for t, _ in points]
    vs = [v for _, points in series for _, v in points]
    t0, t1 = min(ts), max(ts)
    v0, v1 = min(vs), max(vs)
    if t1 == t0:
        t0, t1 = t0 - 1800, t1 + 1800
    if v1 == v0:
        v0, v1 = v0 - 0.5, v1 + 0.5
    sx = _scale(t0, t1, LEFT, WIDTH - RIGHT)
    sy = _scale(v0, v1, HEIGHT - BOTTOM, TOP + 16)
    body = _axes(t0, t1, [(sy(v0 + (v1 - v0) * i / 4), _fmt(v0 + (v1 - v0) * i / 4)) for i in range(5)],
                 _time_ticks(t0, t1, sx))
    for index, (label, points) in enumerate(series):
        css = f"s{index % 8}"
        coords = " ".join(f"{sx(t):.1f},{sy(v):.1f}" for t, v in points)
        body.append(f'<polyline class="line {css}" points="{coords}"><title>{escape(label)}</title></polyline>')
        if len(points) <= 60:
            body.extend(f'<circle class="dot {css}" cx="{sx(t):.1f}" cy="{sy(v):.1f}" r="2.5">'
                        f'<title>{escape(label)} {_fmt(v)}</title></circle>' for t, v in points)
    body.extend(_legend([(f"s{i % 8}", label) for i, (label, _) in enumerate(series)]))
    return _frame(title, body)


def timeline(title: str, executions: Sequence[tuple[float, str, str]]) -> str:
    """Executions along time: one mark per (scheduled time, status, label), coloured by status."""
    if not executions:
        return _frame(title, ['<text class="empty" x="20" y="30">no executions</text>'], height=60)
    height = 70
    t0 = min(t for t, _, _ in executions)
    t1 = max(t for t, _, _ in executions)
    if t1 == t0:
        t0, t1 = t0 - 1800, t1 + 1800
    sx = _scale(t0, t1, LEFT, WIDTH - RIGHT)
    body = [f'<line class="axis" x1="{LEFT}" y1="30" x2="{WIDTH - RIGHT}" y2="30"/>']
    for t, status, label in executions:
        body.append(f'<rect class="status-{escape(status)}" x="{sx(t) - 2:.1f}" y="18" width="4" height="24">'
                    f'<title>{escape(label)}: {escape(status)}</title></rect>')
    body.extend(f'<text class="tick" x="{x:.1f}" y="58" text-anchor="middle">{escape(text)}</text>'
                for x, text in _time_ticks(t0, t1, sx))
    return _frame(title, body, height=height)

"""Prometheus text exposition format (version 0.0.4), written by hand: families of samples and a histogram.

The format is small (https://prometheus.io/docs/instrumenting/exposition_formats/): per family a `# HELP` and a
`# TYPE` line, then one `name{label="value",...} value` line per sample. Help text escapes `\\` and newlines;
label values escape `\\`, `"` and newlines. Label names are `[a-zA-Z_][a-zA-Z0-9_]*` (`label_name` makes one
from any text). `prometheus_client` is not a dependency: see docs/architecture.md.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import regex

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request handling time, seconds: from sub-millisecond reads to the 60 s invocation timeout.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_CAMEL = regex.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_INVALID = regex.compile(r"[^a-zA-Z0-9_]")

Labels = tuple[tuple[str, str], ...]


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def label_name(text: str) -> str:
    """`MonitoringSchedule` → `monitoring_schedule`; any other character → `_`; never starting with a digit
    or with `__` (reserved by Prometheus)."""
    name = _INVALID.sub("_", _CAMEL.sub("_", text)).lower().lstrip("_") or "label"
    return f"l_{name}" if name[0].isdigit() else name


def format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


@lru_cache(maxsize=65536)  # label sets repeat scrape after scrape: 5,000 samples rendered in 20 ms uncached
def _labels_text(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{escape_label_value(value)}"' for name, value in labels) + "}"


@dataclass
class Family:
    """One metric family: its name, type (gauge, counter, histogram) and samples (suffix, labels, value)."""

    name: str
    type: str
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, value: float, labels: Labels = (), suffix: str = "") -> None:
        self.samples.append((suffix, labels, value))

    def render(self) -> str:
        lines = [f"# HELP {self.name} {escape_help(self.help)}", f"# TYPE {self.name} {self.type}"]
        lines.extend(
            f"{self.name}{suffix}{_labels_text(labels)} {format_value(value)}" for suffix, labels, value in self.samples
        )
        return "\n".join(lines) + "\n"


def render(families: Iterable[Family]) -> str:
    """The exposition text of `families`: a family without samples still announces its type."""
    return "".join(family.render() for family in families)


class Histogram:
    """A cumulative histogram per label set, safe to observe from several threads."""

    def __init__(self, name: str, help: str, label: str, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name, self.help, self.label = name, help, label
        self.buckets = tuple(sorted(buckets))
        self._lock = threading.Lock()
        # label value → (counts per bucket, not cumulative; the last is +Inf), sum
        self._series: dict[str, tuple[list[int], list[float]]] = {}

    def observe(self, label_value: str, seconds: float) -> None:
        index = bisect_left(self.buckets, seconds)  # the first bound >= seconds (`le` is inclusive)
        with self._lock:
            series = self._series.get(label_value)
            if series is None:
                series = self._series[label_value] = ([0] * (len(self.buckets) + 1), [0.0])
            series[0][index] += 1
            series[1][0] += seconds

    def family(self) -> Family:
        family = Family(self.name, "histogram", self.help)
        with self._lock:
            snapshot = {key: (list(counts), total[0]) for key, (counts, total) in self._series.items()}
        for value, (counts, total) in sorted(snapshot.items()):
            cumulative = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                cumulative += count
                family.add(cumulative, ((self.label, value), ("le", format_value(bound))), "_bucket")
            family.add(cumulative, ((self.label, value),), "_count")
            family.add(total, ((self.label, value),), "_sum")
        return family

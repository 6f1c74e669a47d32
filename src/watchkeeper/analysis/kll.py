"""Deequ's KLL quantile sketch (`QuantileNonSample` + `NonSampleCompactor`), ported to numpy (spec §5.4).

SageMaker's statistics.json carries this sketch (`distribution.kll.sketch.data`, level by level) and its
10 buckets, so we reproduce Deequ's algorithm step for step rather than use another KLL:

- level h (a "compactor") holds items of weight 2**h; its capacity is `2 * (ceil(k * c**h / 2) + 1)`;
- `update(x)` appends x to level 0; when the sketch holds more items than all levels' capacities,
  `condense()` compacts the lowest level at or over its capacity (adding a level on top when needed);
- compacting sorts the first even number of items and keeps every other one, starting at an offset that
  Deequ makes deterministic (its random choice is commented out): the offset flips before every odd-numbered
  compaction of that level, giving 0, 1, 1, 0, 0, 1, 1, 0, ...; an odd last item stays behind, unsorted.

`update_batch` is exact: it appends as many values as fit before the next condense, condenses, and goes
on, so batches of any size give the same sketch as one value at a time. Merging (`merge`) is Deequ's:
levels are concatenated level by level, then condensed while the sketch is at or over capacity.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

DEFAULT_SKETCH_SIZE = 2048
DEFAULT_SHRINKING_FACTOR = 0.64
NUM_BUCKETS = 10  # "By default, the distribution is materialized in 10 buckets. You can't change this."

# Deequ's KLLRunner starts each partition's min at Int.MaxValue and max at Int.MinValue (not at +/-inf), so
# the bucket range of a column whose values all exceed 2**31 - 1 starts at 2147483647.0 (and symmetrically
# for max). statistics.json's own min/max come from separate exact analyzers. We keep the quirk so that
# buckets match AWS's; see docs/analysis.md.
BUCKET_MIN_START = float(2**31 - 1)
BUCKET_MAX_START = float(-(2**31))
_EMPTY = np.empty(0, dtype=np.float64)  # never written to: levels are replaced, not changed in place


def capacity(height: int, sketch_size: int = DEFAULT_SKETCH_SIZE,
             shrinking_factor: float = DEFAULT_SHRINKING_FACTOR) -> int:
    return 2 * (math.ceil(sketch_size * shrinking_factor**height / 2) + 1)


class KLLSketch:
    """A mutable sketch of float64 values. `merge` and the update methods change it in place."""

    __slots__ = ("_capacities", "_levels", "_negative_zero", "_num_compress", "_offsets", "_size", "_total", "c",
                 "k")

    def __init__(self, sketch_size: int = DEFAULT_SKETCH_SIZE,
                 shrinking_factor: float = DEFAULT_SHRINKING_FACTOR) -> None:
        self.k = sketch_size
        self.c = shrinking_factor
        self._levels: list[np.ndarray] = []
        self._num_compress: list[int] = []
        self._offsets: list[int] = []
        self._capacities: list[int] = []
        self._size = 0  # items held (Deequ's compactorActualSize)
        self._total = 0  # sum of capacities (compactorTotalSize)
        self._negative_zero = False  # whether -0.0 was ever added (Java orders it before 0.0)
        self._expand()

    # ------------------------------------------------------------------------------------------ building

    def _expand(self) -> None:
        self._levels.append(np.empty(0, dtype=np.float64))
        self._num_compress.append(0)
        self._offsets.append(0)
        self._capacities.append(capacity(len(self._capacities), self.k, self.c))
        self._total = sum(self._capacities)

    def update(self, value: float) -> None:
        self.update_batch(np.array([value], dtype=np.float64))

    def update_batch(self, values: np.ndarray) -> None:
        """Add values in order; identical to calling Deequ's `update` once per value."""
        values = np.asarray(values, dtype=np.float64)
        if not self._negative_zero and np.any(np.signbit(values) & (values == 0.0)):
            self._negative_zero = True
        start, n = 0, len(values)
        while start < n:
            room = self._total - self._size  # appends that do not trigger a condense
            if n - start <= room:
                take, condense = n - start, False
            else:
                take, condense = max(room + 1, 1), True
            self._levels[0] = np.concatenate((self._levels[0], values[start:start + take]))
            self._size += take
            start += take
            if condense:
                self._condense()

    def _condense(self) -> None:
        levels, capacities = self._levels, self._capacities
        for height in range(len(levels)):
            if len(levels[height]) >= capacities[height]:
                if height + 1 >= len(levels):
                    self._expand()
                before = len(levels[height])
                output = self._compact(height)
                levels[height + 1] = np.concatenate((levels[height + 1], output))
                # compacting keeps an odd last item and moves half the rest up
                self._size += len(levels[height]) + len(output) - before
                return

    def _compact(self, height: int) -> np.ndarray:
        buffer = self._levels[height]
        items = len(buffer)
        even = items - items % 2
        if self._num_compress[height] % 2 == 1:
            self._offsets[height] = 1 - self._offsets[height]
        head = buffer[:even]
        if self._negative_zero:  # java.lang.Double.compare: -0.0 < 0.0, which numpy treats as equal
            head = head[np.lexsort((~np.signbit(head), head))]
        else:
            head = np.sort(head)
        output = head[self._offsets[height]:even:2]
        self._levels[height] = buffer[items - 1:].copy() if items % 2 else _EMPTY
        self._num_compress[height] += 1
        return output

    def merge(self, other: KLLSketch) -> KLLSketch:
        """Deequ's `QuantileNonSample.merge`: this sketch absorbs `other` (which is left unchanged)."""
        while len(self._levels) < len(other._levels):
            self._expand()
        for height, level in enumerate(other._levels):
            self._levels[height] = np.concatenate((self._levels[height], level))
        self._negative_zero = self._negative_zero or other._negative_zero
        self._size = sum(len(level) for level in self._levels)
        while self._size >= self._total:
            self._condense()
        return self

    def copy(self) -> KLLSketch:
        twin = KLLSketch(self.k, self.c)
        twin._levels = [level.copy() for level in self._levels]
        twin._num_compress = list(self._num_compress)
        twin._offsets = list(self._offsets)
        twin._capacities = list(self._capacities)
        twin._size, twin._total = self._size, self._total
        twin._negative_zero = self._negative_zero
        return twin

    # ------------------------------------------------------------------------------------------- reading

    @property
    def count(self) -> int:
        """Total weight: the number of values the sketch stands for."""
        return sum(len(level) << height for height, level in enumerate(self._levels))

    @property
    def num_items(self) -> int:
        return self._size

    def data(self) -> list[list[float]]:
        """`sketch.data`: one list per level, level 0 first, each in buffer order."""
        return [level.tolist() for level in self._levels]

    def rank(self, value: float) -> int:
        """Weight of items <= value (Deequ `getRank`)."""
        return sum(int(np.count_nonzero(level <= value)) << h for h, level in enumerate(self._levels))

    def rank_exclusive(self, value: float) -> int:
        """Weight of items < value (Deequ `getRankExclusive`)."""
        return sum(int(np.count_nonzero(level < value)) << h for h, level in enumerate(self._levels))

    def items_and_weights(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._levels:
            return np.empty(0), np.empty(0, dtype=np.int64)
        items = np.concatenate(self._levels)
        weights = np.concatenate([np.full(len(level), 1 << h, dtype=np.int64)
                                  for h, level in enumerate(self._levels)])
        return items, weights

    def quantile(self, q: float) -> float:
        """Smallest item whose cumulative weight reaches q of the total (for tests and summaries)."""
        items, weights = self.items_and_weights()
        if not len(items):
            return math.nan
        order = np.argsort(items, kind="stable")
        cumulative = np.cumsum(weights[order])
        index = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
        return float(items[order][min(index, len(items) - 1)])

    def buckets(self, low: float, high: float, num_buckets: int = NUM_BUCKETS) -> list[dict[str, float]]:
        """Deequ `KLLSketch.computeMetricFrom`: equal-width buckets over [low, high]; counts are sketch
        ranks, the last bucket inclusive of `high`."""
        out = []
        for i in range(num_buckets):
            lower = low + (high - low) * i / float(num_buckets)
            upper = low + (high - low) * (i + 1) / float(num_buckets)
            if i == num_buckets - 1:
                count = self.rank(upper) - self.rank_exclusive(lower)
            else:
                count = self.rank_exclusive(upper) - self.rank_exclusive(lower)
            out.append({"lower_bound": lower, "upper_bound": upper, "count": float(count)})
        return out

    def to_document(self) -> dict:
        """The `sketch` object of statistics.json."""
        return {"parameters": {"c": float(self.c), "k": float(self.k)}, "data": self.data()}

    @classmethod
    def from_data(cls, data: Sequence[Sequence[float]], sketch_size: int = DEFAULT_SKETCH_SIZE,
                  shrinking_factor: float = DEFAULT_SHRINKING_FACTOR) -> KLLSketch:
        """A sketch rebuilt from `sketch.data` (for example one written by AWS). The per-level compaction
        counters are not in the document; they restart at zero, which only affects later compactions."""
        sketch = cls(sketch_size, shrinking_factor)
        for height, level in enumerate(data):
            if height >= len(sketch._levels):
                sketch._expand()
            sketch._levels[height] = np.asarray(level, dtype=np.float64)
        sketch._negative_zero = any(bool(np.any(np.signbit(x) & (x == 0.0))) for x in sketch._levels)
        sketch._size = sum(len(level) for level in sketch._levels)
        return sketch

    @classmethod
    def from_document(cls, sketch: dict) -> KLLSketch:
        parameters = sketch.get("parameters") or {}
        return cls.from_data(sketch.get("data") or [], int(parameters.get("k", DEFAULT_SKETCH_SIZE)),
                             float(parameters.get("c", DEFAULT_SHRINKING_FACTOR)))

    def state_document(self) -> dict[str, Any]:
        """Everything the sketch is, exactly (for `analysis.state_file`): items as base64 of little-endian
        float64 bytes, floats as `float.hex`, and the per-level compaction counters `data()` leaves out."""
        return {
            "k": self.k,
            "c": float(self.c).hex(),
            "negative_zero": self._negative_zero,
            "levels": [
                {"items": base64.b64encode(level.astype("<f8").tobytes()).decode("ascii"),
                 "compactions": compactions, "offset": offset}
                for level, compactions, offset in zip(self._levels, self._num_compress, self._offsets, strict=True)
            ],
        }

    @classmethod
    def from_state_document(cls, document: dict[str, Any]) -> KLLSketch:
        """The sketch `state_document` described, bit for bit; ValueError/KeyError when damaged."""
        levels = document["levels"]
        if not levels:
            raise ValueError("a KLL sketch has at least one level")
        sketch = cls(int(document["k"]), float.fromhex(document["c"]))
        sketch._levels = [np.frombuffer(base64.b64decode(level["items"]), dtype="<f8").astype(np.float64)
                          for level in levels]
        sketch._num_compress = [int(level["compactions"]) for level in levels]
        sketch._offsets = [int(level["offset"]) for level in levels]
        sketch._capacities = [capacity(height, sketch.k, sketch.c) for height in range(len(levels))]
        sketch._size = sum(len(level) for level in sketch._levels)
        sketch._total = sum(sketch._capacities)
        sketch._negative_zero = bool(document["negative_zero"])
        return sketch

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KLLSketch):
            return NotImplemented
        return (self.k, self.c) == (other.k, other.c) and len(self._levels) == len(other._levels) and all(
            np.array_equal(a, b) for a, b in zip(self._levels, other._levels, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        levels = [len(level) for level in self._levels]
        return f"KLLSketch(k={self.k}, c={self.c}, count={self.count}, levels={levels})"

"""Mergeable per-column statistic states (Deequ's analyzer states, spec §5.2-§5.5).

Each state has `update` (fold in one batch of a column), `merge` (combine with the state of another part
of the data: another file, hour, partition or worker; associative) and `to_document` (render the part of
statistics.json it owns). Updating with batches in order gives the same state as one update with all the
data; merging parts gives the state of the whole up to the last bits of floating-point sums (counts,
min/max, types and value counts exactly; the KLL sketch per Deequ's merge, see kll.py).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from watchkeeper.analysis import types as T
from watchkeeper.analysis.kll import BUCKET_MAX_START, BUCKET_MIN_START, KLLSketch

# Batches up to this many values have their moments computed value by value with Spark's streaming
# update, which reproduces AWS's std_dev bit for bit for an input that Spark reads as one partition (every
# real baseline we have). Larger batches are computed vectorised and combined with Spark's partition-merge
# formula, as AWS itself combines partitions: identical up to the last 1-2 ulps of std_dev.
EXACT_MOMENTS_MAX_ROWS = 65_536

# String columns keep exact value counts while they have at most this many distinct values (Deequ's
# ColumnProfiler computes histograms only up to this cardinality: `lowCardinalityHistogramThreshold`).
CATEGORICAL_MAX_DISTINCT = 120

# HyperLogLog precision for distinct counts beyond CATEGORICAL_MAX_DISTINCT: 2**14 registers, a standard
# error of 1.04 / sqrt(2**14) = 0.8%.
HLL_PRECISION = 14
_HLL_SEED = 0x5EED


# ---------------------------------------------------------------------------------------------- numeric


@dataclass(slots=True)
class NumericState:
    """count, sum, mean, population std_dev, min, max and the KLL sketch of a numeric column (§5.2, §5.4)."""

    count: int = 0
    total: float = 0.0  # left-to-right IEEE sum, as Spark's Sum over one partition
    minimum: float = math.inf
    maximum: float = -math.inf
    avg: float = 0.0  # Spark CentralMomentAgg state
    m2: float = 0.0
    sketch: KLLSketch = field(default_factory=KLLSketch)
    # KLLRunner's own min/max, which start at Int.MaxValue / Int.MinValue (kll.py)
    bucket_min: float = BUCKET_MIN_START
    bucket_max: float = BUCKET_MAX_START

    def update(self, values: np.ndarray) -> None:
        """Fold in the non-null values of one batch, in row order."""
        n = len(values)
        if n == 0:
            return
        values = np.asarray(values, dtype=np.float64)
        self.total = _running_sum(self.total, values)
        low, high = float(values.min()), float(values.max())
        self.minimum = min(self.minimum, low)
        self.maximum = max(self.maximum, high)
        self.bucket_min = min(self.bucket_min, low)
        self.bucket_max = max(self.bucket_max, high)
        if n <= EXACT_MOMENTS_MAX_ROWS:
            count, avg, m2 = self.count, self.avg, self.m2
            for x in values.tolist():
                count += 1
                delta = x - avg
                delta_n = delta / count
                avg += delta_n
                m2 += delta * (delta - delta_n)
            self.avg, self.m2 = avg, m2
        else:
            avg_b = float(values.mean())
            deviations = np.subtract(values, avg_b, out=_scratch(n))
            m2_b = float(np.square(deviations, out=deviations).sum())
            self.avg, self.m2 = _merge_moments(self.count, self.avg, self.m2, n, avg_b, m2_b)
        self.count += n
        self.sketch.update_batch(values)

    def merge(self, other: NumericState) -> NumericState:
        avg, m2 = _merge_moments(self.count, self.avg, self.m2, other.count, other.avg, other.m2)
        return NumericState(
            count=self.count + other.count,
            total=self.total + other.total,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            avg=avg,
            m2=m2,
            sketch=self.sketch.copy().merge(other.sketch),
            bucket_min=min(self.bucket_min, other.bucket_min),
            bucket_max=max(self.bucket_max, other.bucket_max),
        )

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    @property
    def std_dev(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count else math.nan

    def to_document(self, num_present: int, num_missing: int) -> dict:
        """`numerical_statistics` of a feature."""
        document: dict = {"common": {"num_present": num_present, "num_missing": num_missing}}
        if self.count == 0:
            return document
        document.update(
            mean=self.mean,
            sum=float(self.total),
            std_dev=self.std_dev,
            min=float(self.minimum),
            max=float(self.maximum),
            distribution={"kll": {
                "buckets": self.sketch.buckets(self.bucket_min, self.bucket_max),
                "sketch": self.sketch.to_document(),
            }},
        )
        return document


_scratch_buffers = threading.local()


def _scratch(n: int, dtype: type = np.float64, slot: str = "") -> np.ndarray:
    """n items of this thread's scratch buffer of `dtype` named `slot`, kept from batch to batch: a fresh
    temporary of a batch's size per column costs more (new pages, a fault each) than the arithmetic done in
    it. A slice is valid until the next call for the same slot and dtype."""
    buffers = getattr(_scratch_buffers, "buffers", None)
    if buffers is None:
        buffers = _scratch_buffers.buffers = {}
    key = (slot, np.dtype(dtype).str)
    buffer = buffers.get(key)
    if buffer is None or len(buffer) < n:
        buffer = buffers[key] = np.empty(max(n, 2 * len(buffer) if buffer is not None else n), dtype)
    return buffer[:n]


def _running_sum(total: float, values: np.ndarray) -> float:
    """total + values[0] + values[1] + ..., added left to right as Spark's Sum adds one partition's values."""
    sums = _scratch(len(values) + 1)
    sums[0] = total
    sums[1:] = values
    return float(np.add.accumulate(sums, out=sums)[-1])


def _merge_moments(
    n1: int, avg1: float, m2_1: float, n2: int, avg2: float, m2_2: float
) -> tuple[float, float]:
    """Spark `CentralMomentAgg.merge` (spec §5.2)."""
    n = n1 + n2
    if n == 0:
        return 0.0, 0.0
    delta = avg2 - avg1
    delta_n = delta / n
    return avg1 + delta_n * n2, m2_1 + m2_2 + delta * delta_n * n1 * n2


# ----------------------------------------------------------------------------------------------- string


@dataclass(slots=True)
class StringState:
    """Distinct count and value counts of a column's raw values (§5.5).

    Exact value counts are kept while the column has at most CATEGORICAL_MAX_DISTINCT distinct values;
    past that they are dropped and a HyperLogLog sketch (built from the values seen so far, then updated)
    estimates the distinct count. Low-cardinality columns therefore never pay for hashing.
    """

    counts: dict[str, int] | None = field(default_factory=dict)
    registers: np.ndarray | None = None  # HyperLogLog, present once `counts` is dropped

    def update(self, values: pl.Series) -> None:
        """Fold in the non-null values (as strings) of one batch."""
        if len(values) == 0:
            return
        if self.counts is not None:
            # A prefix with too many distinct values proves the whole batch has too many: skip the count.
            if values.head(4 * CATEGORICAL_MAX_DISTINCT).n_unique() <= CATEGORICAL_MAX_DISTINCT:
                frame = values.rename("value").value_counts(name="n")
                if len(frame) + len(self.counts) <= CATEGORICAL_MAX_DISTINCT or (
                    len(set(self.counts).union(frame[:, 0].to_list())) <= CATEGORICAL_MAX_DISTINCT
                ):
                    for value, count in frame.iter_rows():
                        self.counts[value] = self.counts.get(value, 0) + count
                    return
            self._to_sketch()
        _hll_add(self.registers, values)

    def _to_sketch(self) -> None:
        self.registers = np.zeros(1 << HLL_PRECISION, dtype=np.uint8)
        if self.counts:
            _hll_add(self.registers, pl.Series(list(self.counts), dtype=pl.String))
        self.counts = None

    def merge(self, other: StringState) -> StringState:
        if self.counts is not None and other.counts is not None:
            merged = dict(self.counts)
            for value, count in other.counts.items():
                merged[value] = merged.get(value, 0) + count
            if len(merged) <= CATEGORICAL_MAX_DISTINCT:
                return StringState(counts=merged)
        parts = []
        for state in (self, other):
            if state.registers is None:
                state = StringState(counts=dict(state.counts or {}))
                state._to_sketch()
            parts.append(state.registers)
        return StringState(counts=None, registers=np.maximum(parts[0], parts[1]))

    def distinct_count(self) -> int:
        if self.counts is not None:
            return len(self.counts)
        return _hll_estimate(self.registers)

    def buckets(self) -> list[dict] | None:
        """Categorical buckets, most frequent first (ties by value); None past the cardinality limit."""
        if self.counts is None:
            return None
        ordered = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        return [{"value": value, "count": float(count)} for value, count in ordered]

    def to_document(self, num_present: int, num_missing: int) -> dict:
        """`string_statistics` of a feature."""
        document: dict = {
            "common": {"num_present": num_present, "num_missing": num_missing},
            "distinct_count": float(self.distinct_count()),
        }
        buckets = self.buckets()
        if buckets:
            document["distribution"] = {"categorical": {"buckets": buckets}}
        return document


def _hll_add(registers: np.ndarray, values: pl.Series) -> None:
    hashes = values.hash(seed=_HLL_SEED).to_numpy()
    n = len(hashes)
    index = np.right_shift(hashes, np.uint64(64 - HLL_PRECISION), out=_scratch(n, np.uint64, "index"))
    # rank = position of the first 1 bit in the remaining bits; the top 32 of them are plenty
    rest = np.left_shift(hashes, np.uint64(HLL_PRECISION), out=_scratch(n, np.uint64, "rest"))
    np.right_shift(rest, np.uint64(32), out=rest)
    real = _scratch(n, np.float64, "real")
    np.copyto(real, rest, casting="unsafe")  # exact: 32 bits
    # real = m * 2**exponent with 0.5 <= m < 1; exponent 0 for real == 0
    _, exponent = np.frexp(real, out=(_scratch(n, np.float64, "mantissa"), _scratch(n, np.int32, "exponent")))
    rank = np.subtract(33, exponent, out=_scratch(n, np.uint8, "rank"), casting="unsafe")
    np.maximum.at(registers, index.view(np.int64), rank)


def _hll_estimate(registers: np.ndarray) -> int:
    m = float(len(registers))
    alpha = 0.7213 / (1 + 1.079 / m)
    raw = alpha * m * m / float(np.sum(np.exp2(-registers.astype(np.float64))))
    zeros = int(np.count_nonzero(registers == 0))
    if raw <= 2.5 * m and zeros:
        return round(m * math.log(m / zeros))
    return round(raw)


# ----------------------------------------------------------------------------------------------- column


@dataclass(slots=True)
class ColumnState:
    """Everything statistics.json says of one column. Its nulls are the dataset's rows minus its non-null
    values, so the dataset's `item_count` is passed in when rendering."""

    types: T.TypeCounts = field(default_factory=T.TypeCounts)
    numeric: NumericState | None = field(default_factory=NumericState)
    strings: StringState = field(default_factory=StringState)

    def update(self, counts: T.TypeCounts, numbers: np.ndarray | None, strings: pl.Series) -> None:
        """Fold in one batch: its type counts, its non-null values cast to double (in row order; None when
        the batch has none) and its non-null raw values as strings."""
        self.types = self.types.merge(counts)
        if self.types.deequ_type() == T.STRING:
            self.numeric = None  # a String column stays String: its numbers are never rendered
        elif self.numeric is not None and numbers is not None:
            self.numeric.update(numbers)
        self.strings.update(strings)

    def merge(self, other: ColumnState) -> ColumnState:
        types = self.types.merge(other.types)
        numeric = None
        if types.deequ_type() != T.STRING and self.numeric is not None and other.numeric is not None:
            numeric = self.numeric.merge(other.numeric)
        return ColumnState(types=types, numeric=numeric, strings=self.strings.merge(other.strings))

    def inferred_type(self) -> str:
        return self.types.inferred_type()

    def to_document(self, name: str, item_count: int) -> dict:
        """One entry of statistics.json's `features`."""
        kind = self.inferred_type()
        feature: dict = {"name": name, "inferred_type": kind}
        if kind in T.NUMERIC_TYPES and self.numeric is not None:
            present = self.numeric.count
            feature["numerical_statistics"] = self.numeric.to_document(present, item_count - present)
        else:
            present = self.types.non_null
            feature["string_statistics"] = self.strings.to_document(present, item_count - present)
        return feature


"""Per-feature distributions from statistics.json documents, as the charts draw them (pure computation).

A numerical feature's distribution is the CDF of its KLL sketch (spec §5.4: level h items weigh 2**h), or,
for a document without a sketch, the CDF implied by its 10 buckets. A string feature's is its categorical
buckets as shares of the feature's values. Baseline and current are paired by feature name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from watchkeeper.analysis.kll import KLLSketch

MAX_CDF_POINTS = 200  # enough for a 600-pixel-wide line
MAX_CATEGORIES = 12


@dataclass(frozen=True)
class Cdf:
    xs: list[float]
    ps: list[float]  # P(X <= x), nondecreasing, ends at 1
    source: str  # "kll sketch" or "buckets"


@dataclass
class FeatureDistribution:
    name: str
    inferred_type: str
    kind: str  # "numerical", "categorical" or "none"
    baseline_cdf: Cdf | None = None
    current_cdf: Cdf | None = None
    categories: list[tuple[str, float | None, float | None]] = field(default_factory=list)  # value, shares
    baseline_summary: dict[str, Any] = field(default_factory=dict)
    current_summary: dict[str, Any] = field(default_factory=dict)


def cdf_of_sketch(sketch: dict[str, Any]) -> Cdf | None:
    """The sketch's empirical CDF: items sorted, weights accumulated, thinned to MAX_CDF_POINTS steps."""
    items, weights = KLLSketch.from_document(sketch).items_and_weights()
    items = np.asarray(items, dtype=np.float64)
    finite = np.isfinite(items)
    items, weights = items[finite], weights[finite]
    if not len(items):
        return None
    order = np.argsort(items, kind="stable")
    xs, cumulative = items[order], np.cumsum(weights[order]).astype(np.float64)
    # One point per distinct value (its last, highest cumulative weight).
    last = np.r_[xs[1:] != xs[:-1], True]
    xs, ps = xs[last], cumulative[last] / cumulative[-1]
    if len(xs) > MAX_CDF_POINTS:
        keep = np.unique(np.linspace(0, len(xs) - 1, MAX_CDF_POINTS).round().astype(np.int64))
        xs, ps = xs[keep], ps[keep]
    return Cdf(xs.tolist(), ps.tolist(), "kll sketch")


def cdf_of_buckets(buckets: list[dict[str, Any]]) -> Cdf | None:
    """A CDF through the buckets' upper bounds (for documents that carry buckets and no sketch)."""
    try:
        uppers = [float(b["upper_bound"]) for b in buckets]
        counts = np.asarray([float(b["count"]) for b in buckets], dtype=np.float64)
        lower = float(buckets[0]["lower_bound"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    total = counts.sum()
    if total <= 0:
        return None
    ps = np.cumsum(counts) / total
    return Cdf([lower, *uppers], [0.0, *ps.tolist()], "buckets")


def _numerical_cdf(feature: dict[str, Any]) -> Cdf | None:
    kll = ((feature.get("numerical_statistics") or {}).get("distribution") or {}).get("kll") or {}
    if isinstance(kll.get("sketch"), dict) and kll["sketch"].get("data"):
        try:
            return cdf_of_sketch(kll["sketch"])
        except (TypeError, ValueError):
            pass
    return cdf_of_buckets(kll.get("buckets") or [])


def _categories(feature: dict[str, Any]) -> dict[str, float]:
    buckets = (((feature.get("string_statistics") or {}).get("distribution") or {}).get("categorical") or {}).get(
        "buckets"
    ) or []
    counts: dict[str, float] = {}
    for bucket in buckets:
        if isinstance(bucket, dict) and "value" in bucket:
            try:
                counts[str(bucket["value"])] = counts.get(str(bucket["value"]), 0.0) + float(bucket.get("count", 0))
            except (TypeError, ValueError):
                continue
    return counts


def _shares(counts: dict[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()} if total > 0 else {}


def summary(feature: dict[str, Any] | None) -> dict[str, Any]:
    """Count, completeness and (numerical) mean, min, max of one feature of a statistics document."""
    if not feature:
        return {}
    stats = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    common = stats.get("common") or {}
    present, missing = common.get("num_present"), common.get("num_missing")
    out: dict[str, Any] = {"present": present, "missing": missing}
    if isinstance(present, int | float) and isinstance(missing, int | float) and present + missing > 0:
        out["completeness"] = present / (present + missing)
    for key in ("mean", "std_dev", "min", "max"):
        if key in stats:
            out[key] = stats[key]
    if "distinct_count" in stats:
        out["distinct"] = stats["distinct_count"]
    return out


def _features(document: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    features = (document or {}).get("features") or []
    return {str(f["name"]): f for f in features if isinstance(f, dict) and "name" in f}


def pair_features(baseline: dict[str, Any] | None, current: dict[str, Any] | None) -> list[FeatureDistribution]:
    """Every feature of the current statistics (then those only in the baseline), with both distributions."""
    base, now = _features(baseline), _features(current)
    names = list(now) + [n for n in base if n not in now]
    out = []
    for name in names:
        b, c = base.get(name), now.get(name)
        either = c or b or {}
        kind = (
            "numerical" if "numerical_statistics" in either
            else "categorical" if "string_statistics" in either
            else "none"
        )
        feature = FeatureDistribution(
            name, str(either.get("inferred_type", "Unknown")), kind,
            baseline_summary=summary(b), current_summary=summary(c),
        )
        if kind == "numerical":
            feature.baseline_cdf = _numerical_cdf(b) if b else None
            feature.current_cdf = _numerical_cdf(c) if c else None
        elif kind == "categorical":
            bs, cs = _shares(_categories(b or {})), _shares(_categories(c or {}))
            ranked = sorted(set(bs) | set(cs), key=lambda v: -max(bs.get(v, 0.0), cs.get(v, 0.0)))
            feature.categories = [(v, bs.get(v, 0.0) if b else None, cs.get(v, 0.0) if c else None)
                                  for v in ranked[:MAX_CATEGORIES]]
        out.append(feature)
    return out

"""Distributions drawn from statistics.json: a KLL sketch's CDF against the data it summarises (exact while the
sketch holds every value, within KLL's error once it compacts), categorical shares, pairing by name."""

from __future__ import annotations

import numpy as np

from watchkeeper.analysis.kll import KLLSketch
from watchkeeper.web.distributions import MAX_CDF_POINTS, cdf_of_buckets, cdf_of_sketch, pair_features
from watchkeeper.web.session import SessionCodec


def sketch_of(values: np.ndarray) -> dict:
    sketch = KLLSketch()
    sketch.update_batch(values)
    return sketch.to_document()


def empirical(values: np.ndarray, xs: list[float]) -> np.ndarray:
    ordered = np.sort(values)
    return np.searchsorted(ordered, np.asarray(xs), side="right") / len(values)


def test_small_sketch_cdf_is_the_data_cdf() -> None:
    values = np.random.default_rng(1).integers(0, 50, 1500).astype(float)  # fits level 0: nothing compacted
    cdf = cdf_of_sketch(sketch_of(values))
    assert cdf is not None and cdf.xs == sorted(set(values.tolist()))
    np.testing.assert_allclose(cdf.ps, empirical(values, cdf.xs), rtol=0, atol=1e-12)


def test_large_sketch_cdf_within_kll_error() -> None:
    values = np.random.default_rng(2).normal(10, 3, 200_000)
    cdf = cdf_of_sketch(sketch_of(values))
    assert cdf is not None and len(cdf.xs) <= MAX_CDF_POINTS and cdf.ps[-1] == 1.0
    assert np.all(np.diff(cdf.ps) >= 0) and np.all(np.diff(cdf.xs) > 0)
    assert np.max(np.abs(np.asarray(cdf.ps) - empirical(values, cdf.xs))) < 0.01


def test_bucket_cdf() -> None:
    buckets = [{"lower_bound": 0.0, "upper_bound": 1.0, "count": 3.0}, {"lower_bound": 1.0, "upper_bound": 2.0,
                                                                         "count": 1.0}]
    cdf = cdf_of_buckets(buckets)
    assert cdf is not None and cdf.xs == [0.0, 1.0, 2.0] and cdf.ps == [0.0, 0.75, 1.0]


def test_pairing_and_categorical_shares() -> None:
    def string_feature(counts: dict[str, float]) -> dict:
        return {"name": "color", "inferred_type": "String", "string_statistics": {
            "common": {"num_present": int(sum(counts.values())), "num_missing": 1},
            "distribution": {"categorical": {"buckets": [{"value": k, "count": v} for k, v in counts.items()]}}}}

    baseline = {"features": [string_feature({"red": 2, "blue": 2}), {"name": "gone", "inferred_type": "Integral",
                                                                       "numerical_statistics": {"common": {}}}]}
    current = {"features": [string_feature({"red": 1, "purple": 3})]}
    color, gone = pair_features(baseline, current)
    assert (color.name, color.kind, gone.name, gone.current_cdf) == ("color", "categorical", "gone", None)
    shares = {value: (b, c) for value, b, c in color.categories}
    assert shares == {"purple": (0.0, 0.75), "red": (0.5, 0.25), "blue": (0.5, 0.0)}
    assert color.current_summary["completeness"] == 4 / 5


def test_session_cookie_is_signed_and_expires() -> None:
    codec = SessionCodec(b"s" * 32, ttl_seconds=60)
    session, value = codec.issue(1000.0, "AKIA", "111122223333", "us-east-1")
    assert codec.decode(value, 1059.0) == session
    assert codec.decode(value, 1060.0) is None  # expired
    assert SessionCodec(b"t" * 32, 60).decode(value, 1000.0) is None  # another server's secret
    payload, signature = value.split(".")
    assert codec.decode(payload.replace("M", "N", 1) + "." + signature, 1000.0) is None

"""statistics.json (spec §5): the churn baseline reproduced from AWS's own file, and the documents of
string, boolean, empty and mixed columns."""

from __future__ import annotations

import math

import polars as pl
import pytest

from tests.analysis.artifacts import TRAINING_CSV, aws_statistics, truncated_sketch_features
from watchkeeper.analysis.columns import read_csv
from watchkeeper.analysis.statistics import DatasetState


def _state(*frames: pl.DataFrame) -> DatasetState:
    state = DatasetState()
    for frame in frames:
        state.update(frame)
    return state


@pytest.fixture(scope="module")
def churn_document():
    batch, _ = read_csv(TRAINING_CSV.read_bytes(), header=True)
    return _state(batch.frame).to_document()


def test_churn_item_count_and_feature_order(churn_document):
    assert churn_document["version"] == 0.0
    assert churn_document["dataset"] == {"item_count": 2333}
    assert len(churn_document["features"]) == 70
    header = TRAINING_CSV.read_text().splitlines()[0].split(",")
    assert [f["name"] for f in churn_document["features"]] == header


def test_churn_features_equal_aws_value_for_value(churn_document):
    """Counts, sum, mean, std_dev, min, max, inferred types, every bucket and every sketch level: equal
    (==, not approximately) to what AWS wrote, for all 33 features its log kept."""
    expected = aws_statistics()["features"]
    for got, want in zip(churn_document["features"], expected, strict=False):
        assert got["name"] == want["name"]
        assert got["inferred_type"] == want["inferred_type"]
        g, w = got["numerical_statistics"], want["numerical_statistics"]
        for key in ("common", "mean", "sum", "std_dev", "min", "max"):
            assert g[key] == w[key], (want["name"], key)
        assert g["distribution"]["kll"]["buckets"] == w["distribution"]["kll"]["buckets"], want["name"]
        assert g["distribution"]["kll"]["sketch"] == w["distribution"]["kll"]["sketch"], want["name"]
        assert got == want
    assert len(truncated_sketch_features()) == 4  # those 4 compared with the reconstructed sketches


def test_churn_in_small_batches_gives_the_same_document(churn_document):
    frame = read_csv(TRAINING_CSV.read_bytes(), header=True)[0].frame
    batches = [frame.slice(i, 100) for i in range(0, frame.height, 100)]
    assert _state(*batches).to_document() == churn_document


def test_string_column_document():
    frame = pl.DataFrame({"color": ["red", "blue", None, "red", "green", "red"]})
    (feature,) = _state(frame).to_document()["features"]
    assert feature == {
        "name": "color",
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": 5, "num_missing": 1},
            "distinct_count": 3.0,
            "distribution": {"categorical": {"buckets": [
                {"value": "red", "count": 3.0}, {"value": "blue", "count": 1.0}, {"value": "green", "count": 1.0},
            ]}},
        },
    }


def test_numbers_with_one_string_make_a_string_column():
    frame = pl.DataFrame({"x": ["1", "2", "n/a", "2"]})
    (feature,) = _state(frame).to_document()["features"]
    assert feature["inferred_type"] == "String"
    assert feature["string_statistics"]["distinct_count"] == 3.0


def test_high_cardinality_strings_have_an_estimated_distinct_count_and_no_buckets():
    frame = pl.DataFrame({"id": [f"user-{i}" for i in range(50_000)]})
    (feature,) = _state(frame).to_document()["features"]
    stats = feature["string_statistics"]
    assert "distribution" not in stats
    assert abs(stats["distinct_count"] - 50_000) / 50_000 < 0.03


def test_boolean_column_is_reported_as_string():
    frame = pl.DataFrame({"flag": ["true", "false", "true"]})
    (feature,) = _state(frame).to_document()["features"]
    assert feature["inferred_type"] == "String"
    assert feature["string_statistics"]["distribution"]["categorical"]["buckets"][0] == {
        "value": "true", "count": 2.0}


def test_all_null_column_is_unknown():
    frame = pl.DataFrame({"empty": [None, None]}, schema={"empty": pl.String})
    (feature,) = _state(frame).to_document()["features"]
    assert feature == {"name": "empty", "inferred_type": "Unknown", "string_statistics": {
        "common": {"num_present": 0, "num_missing": 2}, "distinct_count": 0.0}}


def test_missing_values_and_mixed_integral_fractional():
    frame = pl.DataFrame({"x": ["1", None, "2.5", "4"]})
    (feature,) = _state(frame).to_document()["features"]
    stats = feature["numerical_statistics"]
    assert feature["inferred_type"] == "Fractional"
    assert stats["common"] == {"num_present": 3, "num_missing": 1}
    assert (stats["sum"], stats["min"], stats["max"]) == (7.5, 1.0, 4.0)
    assert stats["mean"] == 2.5
    assert math.isclose(stats["std_dev"], math.sqrt(((1.5**2) + 0 + 1.5**2) / 3))
    assert sum(b["count"] for b in stats["distribution"]["kll"]["buckets"]) == 3.0


def test_values_are_cast_like_spark():
    frame = pl.DataFrame({"x": [" 5", "- 5", "+7"]})  # all Integral to Deequ; Spark cannot cast "- 5"
    stats = _state(frame).to_document()["features"][0]["numerical_statistics"]
    assert stats["common"] == {"num_present": 2, "num_missing": 1}
    assert stats["sum"] == 12.0


def test_typed_columns():
    frame = pl.DataFrame({"i": [1, 2, None], "f": [0.5, None, 1.5], "b": [True, False, None]})
    features = {f["name"]: f for f in _state(frame).to_document()["features"]}
    assert features["i"]["inferred_type"] == "Integral"
    assert features["i"]["numerical_statistics"]["sum"] == 3.0
    assert features["f"]["inferred_type"] == "Fractional"
    assert features["b"]["inferred_type"] == "String"


def test_bucket_range_keeps_deequs_int_start_values():
    """Deequ's KLLRunner starts min/max at Int.MaxValue/Int.MinValue: columns entirely above 2**31 - 1
    get buckets starting there; min/max themselves stay exact."""
    frame = pl.DataFrame({"ts": ["1700000000000", "1700000000500"]})
    stats = _state(frame).to_document()["features"][0]["numerical_statistics"]
    assert stats["min"] == 1.7e12
    assert stats["distribution"]["kll"]["buckets"][0]["lower_bound"] == 2147483647.0
    assert stats["distribution"]["kll"]["buckets"][-1]["upper_bound"] == 1700000000500.0


def test_wider_batches_add_columns_whose_earlier_rows_are_missing():
    state = _state(pl.DataFrame({"a": ["1", "2"]}), pl.DataFrame({"a": ["3"], "_c1": ["x"]}))
    document = state.to_document()
    assert document["dataset"]["item_count"] == 3
    extra = document["features"][1]
    assert extra["name"] == "_c1"
    assert extra["string_statistics"]["common"] == {"num_present": 1, "num_missing": 2}


def test_column_names_that_collide_with_internal_names():
    frame = pl.DataFrame({"count": ["a", "b", "a"], "value": ["1", "2", "3"], "n": ["x", "x", "y"]})
    names = [f["name"] for f in _state(frame).to_document()["features"]]
    assert names == ["count", "value", "n"]

"""AWS's Jackson layout (spec §5.1): checked against the text the real analyzer logged."""

from __future__ import annotations

import json
import math

import pytest

from tests.analysis.artifacts import TRAINING_CSV, aws_statistics_text
from watchkeeper.analysis import aws_json
from watchkeeper.analysis.columns import read_csv
from watchkeeper.analysis.statistics import DatasetState


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (325.0, "325.0"),
        (2048.0, "2048.0"),
        (0.1393056150878697, "0.1393056150878697"),
        (0.30000000000000004, "0.30000000000000004"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (0.00012345, "1.2345E-4"),
        (9999999.0, "9999999.0"),
        (10000000.0, "1.0E7"),
        (123456789.5, "1.234567895E8"),
        (1e21, "1.0E21"),
        (-2.5e-7, "-2.5E-7"),
        (2147483647.0, "2.147483647E9"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
    ],
)
def test_doubles_print_as_java_double_to_string(value, java):
    assert aws_json.java_double(value) == java


def test_layout_of_objects_arrays_and_empties():
    document = {"version": 0.0, "n": 3, "flag": True, "none": None, "empty": {}, "list": [],
                "numbers": [1.0, 2.5], "nested": [[0.0], []], "objects": [{"a": 1}, {"b": {"c": "x"}}]}
    assert aws_json.dumps(document) == (
        '{\n'
        '  "version" : 0.0,\n'
        '  "n" : 3,\n'
        '  "flag" : true,\n'
        '  "none" : null,\n'
        '  "empty" : { },\n'
        '  "list" : [ ],\n'
        '  "numbers" : [ 1.0, 2.5 ],\n'
        '  "nested" : [ [ 0.0 ], [ ] ],\n'
        '  "objects" : [ {\n'
        '    "a" : 1\n'
        '  }, {\n'
        '    "b" : {\n'
        '      "c" : "x"\n'
        '    }\n'
        '  } ]\n'
        '}'
    )


def test_strings_are_escaped_as_jackson_does_and_read_back():
    text = 'quote " backslash \\ tab \t newline \n bell \x07 unicode é'
    out = aws_json.dumps({"s": text})
    assert '\\u0007' in out and "é" in out
    assert json.loads(out) == {"s": text}


def test_nan_is_written_as_a_string():
    assert aws_json.dumps({"x": math.nan}) == '{\n  "x" : "NaN"\n}'


def test_unknown_values_are_refused():
    with pytest.raises(TypeError):
        aws_json.dumps({"x": object()})


def test_churn_statistics_text_is_byte_identical_to_the_aws_log():
    """Everything AWS's analyzer logged before CloudWatch cut the message (256 KB, 33 features)."""
    batch, _ = read_csv(TRAINING_CSV.read_bytes(), header=True)
    state = DatasetState()
    state.update(batch.frame)
    expected = aws_statistics_text()
    assert len(expected) > 250_000
    assert aws_json.dumps(state.to_document())[: len(expected)] == expected


def test_long_float_arrays_print_as_value_by_value():
    """Sketch data goes through polars' float printing when every value is in repr's range: the same text."""
    import numpy as np

    rng = np.random.default_rng(7)
    arrays = [np.round(rng.normal(100, 15, 5000), 5), rng.random(5000), rng.normal(0, 1e6, 5000) + 0.5,
              np.arange(1, 5000) / 3, np.array([0.1, 0.2, 0.30000000000000004, 9999999.5, -0.001] * 20),
              np.array([0.5] * 99 + [2.0]), np.array([0.5] * 99 + [1e-5]), np.array([0.5] * 99 + [math.nan])]
    for array in arrays:
        values = array.tolist()
        assert aws_json._floats(values) == ", ".join(map(aws_json._float, values))

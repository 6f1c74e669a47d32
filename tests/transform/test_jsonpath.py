"""The JSONPath subset of DataProcessing, on the examples of AWS's "Associate Prediction Results with Input
Records" page (expected values written from the page, not computed by the code under test)."""

from __future__ import annotations

import pytest

from watchkeeper.transform.jsonpath import JsonPathError, SelectionError, parse

ROW = ["id1", "5.1", "3.5", "1.4", "0.2"]
RECORD = {"id": 1, "features": [5.1, 3.5], "SageMakerOutput": {"predicted_label": 1, "score": 0.9}}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("$", ROW, ROW),
        ("$[1:]", ROW, ["5.1", "3.5", "1.4", "0.2"]),
        ("$[0,-1]", ROW, ["id1", "0.2"]),
        ("$[0,3:]", ROW, ["id1", "1.4", "0.2"]),
        ("$[1:3]", ROW, ["5.1", "3.5"]),
        ("$[:2]", ROW, ["id1", "5.1"]),
        ("$[-1]", ROW, "0.2"),
        ("$.features", RECORD, [5.1, 3.5]),
        ("$['features']", RECORD, [5.1, 3.5]),
        ("$['id','SageMakerOutput']", RECORD, {"id": 1, "SageMakerOutput": RECORD["SageMakerOutput"]}),
        ("$.SageMakerOutput['predicted_label']", RECORD, 1),
        ("$.SageMakerOutput.['predicted_label','score']", RECORD, {"predicted_label": 1, "score": 0.9}),
        ("$.features[0]", RECORD, 5.1),
        ("$.SageMakerOutput.*", RECORD, [1, 0.9]),
    ],
)
def test_supported_operators(path: str, value: object, expected: object) -> None:
    assert parse(path).apply(value) == expected


@pytest.mark.parametrize("path", ["features", "$..features", "$[?(@.a)]", "$['a','b'].c", "$[1:]x", "$[", "$.a b"])
def test_outside_the_subset_is_refused(path: str) -> None:
    with pytest.raises(JsonPathError):
        parse(path)


def test_a_missing_field_or_index_selects_nothing() -> None:
    with pytest.raises(SelectionError, match="no field 'label'"):
        parse("$.label").apply(RECORD)
    with pytest.raises(SelectionError, match="index 9"):
        parse("$[0,9]").apply(ROW)

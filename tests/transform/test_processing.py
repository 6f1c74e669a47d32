"""DataProcessing on CSV: the columnar path (polars) gives, byte for byte, what the record-by-record path gives,
and both what AWS's documentation shows for its examples."""

from __future__ import annotations

import pytest

from watchkeeper.transform import columnar
from watchkeeper.transform.jsonpath import parse
from watchkeeper.transform.records import Processing, RecordError

RECORDS = [b'id1,5.1,"a,b",1', b"id2,4.9,c,0", b"id3,,d,1"]
ANSWER = b"0.9\n0.2\n0.7\n"


def both(input_filter: str, output_filter: str, join: bool) -> tuple[bytes, bytes, bytes]:
    processing = Processing(parse(input_filter), parse(output_filter), join, "csv", "csv", None)
    assert columnar.applies(processing)
    by_record = b"\n".join(processing.outputs(RECORDS, ANSWER))
    inputs = b"\n".join(processing.model_input(r) for r in RECORDS)
    frame = columnar.read(b"\n".join(RECORDS) + b"\n")
    work = columnar.ColumnarCsv(processing)
    assert work.model_input(frame) == inputs + b"\n"  # as the record path sends a mini-batch
    return by_record, work.outputs(frame, ANSWER), inputs


@pytest.mark.parametrize(("input_filter", "output_filter", "join", "expected_out", "expected_in"), [
    # AWS's example: drop the id for the model, keep the id and the prediction.
    ("$[1:]", "$[0,-1]", True, b"id1,0.9\nid2,0.2\nid3,0.7", b'5.1,"a,b",1\n4.9,c,0\n,d,1'),
    ("$", "$", True, b'id1,5.1,"a,b",1,0.9\nid2,4.9,c,0,0.2\nid3,,d,1,0.7', b'id1,5.1,"a,b",1\nid2,4.9,c,0\nid3,,d,1'),
    ("$[1]", "$", False, b"0.9\n0.2\n0.7", b"5.1\n4.9\n"),
    ("$[0,2]", "$[2,0,0]", True, b'"a,b",id1,id1\nc,id2,id2\nd,id3,id3', b'id1,"a,b"\nid2,c\nid3,d'),
])
def test_columnar_equals_record_by_record(input_filter: str, output_filter: str, join: bool, expected_out: bytes,
                                          expected_in: bytes) -> None:
    by_record, by_columns, inputs = both(input_filter, output_filter, join)
    assert by_record == by_columns == expected_out
    assert inputs == expected_in


def test_an_answer_of_another_length_is_refused_by_both() -> None:
    processing = Processing(parse("$"), parse("$"), True, "csv", "csv", None)
    with pytest.raises(RecordError, match="answered 2 lines for 3 records"):
        processing.outputs(RECORDS, b"1\n2\n")
    with pytest.raises(RecordError, match="answered 2 lines for 3 records"):
        columnar.ColumnarCsv(processing).outputs(columnar.read(b"\n".join(RECORDS)), b"1\n2\n")


def test_json_and_named_filters_go_record_by_record() -> None:
    assert not columnar.applies(Processing(parse("$"), parse("$"), True, "json", "json", None))
    assert not columnar.applies(Processing(parse("$.a"), parse("$"), False, "csv", "csv", None))

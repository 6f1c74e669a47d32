"""CSV text into columns, Spark-style (PERMISSIVE): blank lines skipped, empty fields null, ragged rows
padded or truncated and counted."""

from __future__ import annotations

from watchkeeper.analysis.columns import column_names, read_csv, read_ndjson, spark_json_columns


def test_header_names_and_rows():
    batch, names = read_csv(b"a,b,c\n1,2,3\n4,5,6\n", header=True)
    assert names == ["a", "b", "c"]
    assert batch.frame.columns == ["a", "b", "c"]
    assert batch.frame.rows() == [("1", "2", "3"), ("4", "5", "6")]
    assert batch.bad_rows == 0


def test_without_header_columns_are_c0_c1():
    batch, _ = read_csv(b"1,2\n3,4")
    assert batch.frame.columns == ["_c0", "_c1"]
    assert batch.frame.height == 2


def test_names_by_position_then_defaults():
    batch, _ = read_csv(b"1,2,3\n", names=["Churn", "Account Length"])
    assert batch.frame.columns == ["Churn", "Account Length", "_c2"]


def test_blank_lines_are_skipped_and_empty_fields_are_null():
    batch, _ = read_csv(b"a,b\r\n\r\n1,\r\n\n,2\r\n", header=True)
    assert batch.frame.rows() == [("1", None), (None, "2")]
    assert batch.bad_rows == 0


def test_ragged_rows_are_kept_and_counted():
    batch, _ = read_csv(b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n", header=True)
    assert batch.frame.rows() == [("1", "2", "3"), ("4", "5", None), ("6", "7", "8")]
    assert batch.bad_rows == 2


def test_without_header_the_most_common_width_wins():
    batch, _ = read_csv(b"1,2\n1,2,3\n4,5,6\n7,8,9\n")
    assert batch.frame.width == 3
    assert batch.bad_rows == 1


def test_quoted_fields_hold_commas():
    batch, _ = read_csv(b'name,text\nx,"a, b"\ny,"say ""hi"", ok"\n', header=True)
    assert batch.frame.rows() == [("x", "a, b"), ("y", 'say "hi", ok')]
    assert batch.bad_rows == 0


def test_capture_text_ignores_quotes():
    batch, _ = read_csv(b'"a,b\n', quoting=False)
    assert batch.frame.rows() == [('"a', 'b')]


def test_empty_input():
    batch, _ = read_csv(b"\n\n")
    assert batch.frame.height == 0


def test_duplicate_and_empty_header_names():
    assert column_names(3, ["x", "", "x"]) == ["x0", "_c1", "x2"]


def test_json_lines_with_a_bad_line():
    batch = read_ndjson(b'{"b": 1, "a": "x"}\nnot json\n\n{"a": "y", "b": 2.5}\n[1]\n')
    assert batch.bad_rows == 2
    frame = spark_json_columns(batch.frame)
    assert frame.columns == ["a", "b"]
    assert frame.rows() == [("x", 1.0), ("y", 2.5)]


def test_a_byte_order_mark_is_not_part_of_the_first_name():
    _, names = read_csv(b"\xef\xbb\xbfa,b\n1,2\n", header=True)
    assert names == ["a", "b"]

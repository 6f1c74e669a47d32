"""The envelope cutter (`capture/envelopes.py`) reads every capture line as the JSON parser does: the same
rows in the same order, the same lines counted as unparseable, whichever route each line takes."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from watchkeeper.capture.envelopes import _parsed, parse_capture_columns

TIME = '"eventId":"e1","inferenceTime":"2024-05-01T13:00:00Z"'


def line(data: str = "1,2,3", output: str = "0.5", encoding: str = "CSV", metadata: str = TIME,
         content_type: str = "text/csv") -> str:
    head = f'{{"captureData":{{"endpointInput":{{"observedContentType":"{content_type}","mode":"INPUT",'
    output_side = f'"endpointOutput":{{"observedContentType":"text/csv","mode":"OUTPUT","data":"{output}",'
    return (f'{head}"data":"{data}","encoding":"{encoding}"}},{output_side}'
            f'"encoding":"CSV"}}}},"eventMetadata":{{{metadata}}},"eventVersion":"0"}}')


SPACED = ('{"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2",'
          ' "encoding": "CSV"}}, "eventMetadata": {"inferenceTime": "2024-05-01T13:00:00Z"}, "eventVersion": "0"}')
INPUT_ONLY = ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2",'
              '"encoding":"CSV"}},"eventMetadata":{"inferenceTime":"t"},"eventVersion":"0"}')

CASES = {
    "common lines": [line(), line("4,5,6")],
    "JSON payload (escaped quotes)": [line('{\\"a\\":1,\\"b\\":\\"x\\"}', encoding="JSON",
                                           content_type="application/json"), line()],
    "other escapes": [line("a\\\\b,2"), line("caf\\u00e9,1"), line("x\\/y"), line()],
    "non-ASCII text": [line("café,1"), line()],
    "shadow traffic": [line(metadata=TIME + ',"invocationSource":"ShadowExperiment"'), line()],
    "no inference time": [line(metadata='"eventId":"x"'), line(metadata="")],
    "unparseable lines between": [line(), "not json", line("7,8"), '{"captureData":', line(), "[1,2]"],
    "blank lines": [line(), "", "   ", line("9"), "\t"],
    "other spacing": [SPACED, line()],
    "one side only": [INPUT_ONLY, line()],
    "quotes inside payloads": [line('1\\",\\"encoding\\":\\"x'), line('a\\"b', encoding="JSON")],
    "an unescaped quote": [line('1"2'), line()],
    "metadata that is not all strings": [line(metadata=TIME + ',"n":5'), line()],
    "empty payloads": [line(""), line(output="")],
    "BASE64": [line("MSwyLDM=", encoding="BASE64"), line()],
    "a repeated key": [line(metadata='"inferenceTime":"a","inferenceTime":"b"')],
    "an unknown encoding": [line(encoding="UTF8"), line()],
    "a truncated last line": [line(), line()[:-9]],
    "control characters": [line("1\t2,3"), line(metadata='"eventId":"e\x01","inferenceTime":"t"'), line()],
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("final_newline", [True, False])
def test_cut_lines_read_as_the_json_parser_reads_them(name, final_newline):
    data = ("\n".join(CASES[name]) + ("\n" if final_newline else "")).encode()
    parsed, cut = _parsed(data), parse_capture_columns(data)
    assert cut.bad_rows == parsed.bad_rows
    expected, got = parsed.frame, cut.frame
    if b'"BASE64"' not in data:  # content types are only cut when a BASE64 payload needs them
        types = [column for column in expected.columns if column.endswith("observedContentType")]
        expected, got = expected.drop(types), got.drop(types)
    assert_frame_equal(got, expected)


FAST_FILES = {  # every line of each file is of SageMaker's shape
    "CSV": lambda i: line(f"{i},{i + 1}"),
    "JSON": lambda i: line(f'{{\\"a\\":{i},\\"b\\":{i + 1}}}', encoding="JSON", content_type="application/json"),
    "BASE64 among CSV": lambda i: line("MCwx", encoding="BASE64") if i % 2 else line(f"{i},{i + 1}"),
}


@pytest.mark.parametrize("kind", list(FAST_FILES))
def test_a_file_of_common_lines_takes_the_fast_route_whole(monkeypatch, kind):
    data = ("\n".join(FAST_FILES[kind](i) for i in range(1000)) + "\n").encode()
    import watchkeeper.capture.envelopes as envelopes

    def no_parser(data: bytes):
        raise AssertionError("the JSON parser was used")

    monkeypatch.setattr(envelopes, "_parsed", no_parser)
    frame = parse_capture_columns(data).frame
    assert frame.height == 1000
    expected = {"CSV": ["0,1", "1,2"], "JSON": ['{"a":0,"b":1}', '{"a":1,"b":2}'], "BASE64 among CSV": ["0,1", "MCwx"]}
    assert frame.get_column("endpointInput.data").to_list()[:2] == expected[kind]
    assert frame.get_column("inferenceTime").unique().to_list() == ["2024-05-01T13:00:00Z"]


def test_carriage_returns_and_invalid_utf8_go_to_the_parser():
    for data in [(line() + "\r\n" + line() + "\r\n").encode(), line().encode() + b"\n\xff\xfe\n" + line().encode()]:
        parsed, cut = _parsed(data), parse_capture_columns(data)
        assert cut.bad_rows == parsed.bad_rows
        assert_frame_equal(cut.frame, parsed.frame)
        assert isinstance(cut.frame, pl.DataFrame)

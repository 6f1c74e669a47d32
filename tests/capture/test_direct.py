"""The direct route (`capture/direct.py`) reads capture files as the other route does: the same rows, the
same columns, the same type counts and the same counts of what was left out, whatever mix of lines a file
holds (a file with any line not of its first line's layout goes whole to the other route)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import watchkeeper.capture.reader as reader_module
from watchkeeper.capture.direct import layout_of
from watchkeeper.capture.reader import CaptureReader
from watchkeeper.capture.scan_library import compiler, functions


def require_compiled_pass() -> None:
    """The compiled pass must be there to be tested: skipped without a C compiler, failed if one is there."""
    if functions() is not None:
        return
    if not compiler():
        pytest.skip("no C compiler on PATH: the compiled capture pass cannot be built (.ci/run installs gcc)")
    pytest.fail("a C compiler is on PATH but the compiled capture pass was not built (see the warning logged)")


def line(data: str = "1,2.5,a", output: str = "0.5", *, encoding: str = "CSV",
         metadata: str = '"eventId":"e1","inferenceTime":"2024-05-01T13:00:00Z"', content_type: str = "text/csv",
         output_side: bool = True, input_side: bool = True) -> str:
    sides = []
    if input_side:
        sides.append(f'"endpointInput":{{"observedContentType":"{content_type}","mode":"INPUT","data":"{data}",'
                     f'"encoding":"{encoding}"}}')
    if output_side:
        sides.append(f'"endpointOutput":{{"observedContentType":"text/csv","mode":"OUTPUT","data":"{output}",'
                     f'"encoding":"CSV"}}')
    return f'{{"captureData":{{{",".join(sides)}}},"eventMetadata":{{{metadata}}},"eventVersion":"0"}}'


def common(n: int = 40, **options) -> list[str]:
    return [line(f"{i},{i / 4},{'abc'[i % 3]}", f"0.{i}", **options) for i in range(n)]


SHADOW = '"eventId":"e","inferenceTime":"2024-05-01T13:00:00Z","invocationSource":"ShadowExperiment"'
FILES = {
    "common lines": [common()],
    "two files, one batch": [common(), common(7)],
    "files of other widths in one batch": [common(), [line("1,2") for _ in range(5)]],
    "dirty and empty values": [[*common(), line("n/a,,x"), line(",,"), line("1, 2 ,b")]],
    "non-ASCII values": [[*common(), line("1,2,café")]],
    "the window": [[line(metadata=f'"eventId":"e","inferenceTime":"2024-05-01T{h:02d}:30:00Z"') for h in range(24)]
                   + [line(metadata='"eventId":"e","inferenceTime":"not a time"')]],
    "shadow traffic throughout": [[line(metadata=SHADOW)] * 3 + common(3, metadata=SHADOW.replace("Shadow", "x"))],
    "shadow traffic in places": [[*common(), line(metadata=SHADOW)]],
    "input only": [common(output_side=False)],
    "output only": [[line(output=f"{i},{i + 1}", input_side=False) for i in range(5)]],
    "a wider line": [[*common(), line("1,2,3,4")]],
    "a quote in a value": [[*common(), line('1\\",\\"x\\":\\"2,a')]],
    "an injected key": [[*common(), line('1","x":"2,a')]],
    "a backslash": [[*common(), line("1,2,a\\\\b")]],
    "an escaped metadata value": [[*common(), line(metadata='"eventId":"a\\"b","inferenceTime":"t"')]],
    "a comma in metadata": [[*common(), line(metadata='"eventId":"a,b","inferenceTime":"t"')]],
    "another content type": [[*common(), line(content_type="text/csv; charset=utf-8")]],
    "a JSON payload": [[*common(), line('{\\"a\\":1,\\"b\\":2,\\"c\\":3}', encoding="JSON")]],
    "JSON payloads only": [[line('{\\"a\\":1,\\"b\\":2}', encoding="JSON")] * 3],
    "BASE64 among CSV": [[*common(), line("MSwyLGM=", encoding="BASE64")]],
    "blank and unparseable lines": [[*common()[:5], "", "not json", "  ", *common()[5:]]],
    "a blank line first": [["", *common()]],
    "a blank line last": [[*common(), ""]],
    "carriage returns before line ends": [[f"{text}\r" for text in common()]],
    "a narrower line": [[*common(), line("1,2")]],
    "numbers in one file, text in the next": [common(), [line(f"{i},x{i},a") for i in range(5)], common(3)],
    "text in one file, numbers in the next": [[line(f"{i},x{i},a") for i in range(5)], common(), common(3)],
    "a truncated last line": [[*common(), line()[:-4]]],
    "another eventVersion": [[*common(), line().replace('"eventVersion":"0"', '"eventVersion":"1"')]],
    "a repeated metadata key": [[line(metadata='"inferenceTime":"a","inferenceTime":"b"')] * 3],
    "a quote in a content type": [[*common(), line(content_type='text/c"sv')]],
    "a bad escape in a content type": [[*common(), line(content_type="text\\qcsv")]],
    "a control character in metadata": [[*common(), line(metadata='"eventId":"e\t1","inferenceTime":"t"')]],
    "a control character in a content type": [[*common(), line(content_type="text/\x01csv")]],
    "a content type on the first line only": [[line(content_type="text/plain"), *common()]],
    "a control character in a value": [[*common(), line("1\t,2,é")], [*common(), line("1\t,2,a")]],
    "a non-ASCII metadata key": [[line(metadata='"ü":"x","inferenceTime":"t"'),
                                  line(metadata='"ü":","inferenceTime":"t"')]],
    "lines wider than a payload pattern may be": [[line(",".join("7" * 2100))] * 3],
    "one value": [[line("7", output_side=False)] * 3 + [line("", output_side=False)]],
}


def json_line(body: str, **options) -> str:
    """A line with a JSON payload: `body` is the object's text with its quotes escaped as in the line."""
    return line(body, encoding="JSON", content_type="application/json", **options)


def json_common(n: int = 40) -> list[str]:
    return [json_line(f'{{\\"a\\":{i},\\"b\\":{i / 4},\\"c\\":\\"{"xyz"[i % 3]}\\"}}', output=f"0.{i}")
            for i in range(n)]


FILES |= {
    "JSON objects": [json_common()],
    "JSON values as written": [[*json_common(), json_line('{\\"a\\":1.50,\\"b\\":2E3,\\"c\\":-0.0}'),
                                json_line('{\\"a\\":true,\\"b\\":false,\\"c\\":\\"\\"}'),
                                json_line('{\\"a\\":\\"5\\",\\"b\\":\\"n/a\\",\\"c\\":\\" \\"}')]],
    "a JSON null": [[*json_common(), json_line('{\\"a\\":null,\\"b\\":1,\\"c\\":2}')]],
    "JSON keys in another order": [[*json_common(), json_line('{\\"b\\":1,\\"a\\":2,\\"c\\":3}')]],
    "another JSON key": [[*json_common(), json_line('{\\"a\\":1,\\"b\\":2,\\"d\\":3}')]],
    "a comma in a JSON key": [[*json_common(), json_line('{\\"a\\":1,\\"b,x\\":2,\\"c\\":3}')]],
    "JSON strings only, some empty": [[json_line(f'{{\\"a\\":\\"{v}\\",\\"b\\":\\"x\\"}}') for v in ("p", "", "q")]],
    "a JSON key missing": [[*json_common(), json_line('{\\"a\\":1,\\"b\\":2}')]],
    "nested JSON": [[*json_common(), json_line('{\\"a\\":{\\"x\\":1},\\"b\\":2,\\"c\\":3}')]],
    "an object in a JSON string": [[*json_common(), json_line('{\\"a\\":{\\"a\\":1,\\"b\\":2,\\"c\\":3}')]],
    "a JSON array": [[json_line("[1,2,3]")] * 3],
    "a comma in a JSON string": [[*json_common(), json_line('{\\"a\\":\\"x,y\\",\\"b\\":2,\\"c\\":3}')]],
    "an escape in a JSON string": [[*json_common(), json_line('{\\"a\\":\\"x\\\\ny\\",\\"b\\":2,\\"c\\":3}')]],
    "numbers JSON does not allow": [[*json_common(), json_line('{\\"a\\":01,\\"b\\":+2,\\"c\\":.5}')]],
    "JSON and CSV files in one batch": [json_common(), common()],
}
OPTIONS = {
    "defaults": {},
    "baseline names, output last": {"names": ["x", "y"], "output_first": False},
    "input side only": {"indices": ["endpointInput"]},
    "a window": {"start": "2024-05-01T05:00:00Z", "end": "2024-05-01T13:00:00Z"},
}


def read(files: list[list[str]], direct: bool, monkeypatch, file_by_file: bool = False, compiled: bool = False,
         **options):
    """The files' batches and stats, by the direct route (`compiled`: its compiled pass first, for pieces of
    any size; else the polars pass alone) or by the other route."""
    if compiled:
        require_compiled_pass()
    with monkeypatch.context() as patch:
        if file_by_file:  # no small files read together: each file is a piece of its own
            patch.setattr(reader_module, "COALESCE_BYTES", 1)
        if not direct:
            patch.setattr(reader_module, "layout_of", lambda *args: None)
        patch.setattr(reader_module, "SCAN_MIN_BYTES", 0 if compiled else 1 << 62)
        reader = CaptureReader(batch_rows=1000, **options)
        batches = list(reader.batches(("\n".join(lines) + "\n").encode() for lines in files))
    return batches, reader.stats


@pytest.mark.parametrize("file_by_file", [False, True])
@pytest.mark.parametrize("options", list(OPTIONS))
@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("compiled", [False, True], ids=["polars pass", "compiled pass"])
def test_both_routes_read_the_same(name, options, file_by_file, compiled, monkeypatch):
    direct, direct_stats = read(FILES[name], True, monkeypatch, file_by_file, compiled, **OPTIONS[options])
    other, other_stats = read(FILES[name], False, monkeypatch, file_by_file, **OPTIONS[options])
    assert direct_stats == other_stats
    assert len(direct) == len(other)
    for mine, theirs in zip(direct, other, strict=True):
        assert_frame_equal(mine.frame, theirs.frame)
        assert mine.bad_rows == theirs.bad_rows
        assert mine.type_counts == theirs.type_counts


@pytest.mark.parametrize("compiled", [False, True], ids=["polars pass", "compiled pass"])
def test_common_lines_take_the_direct_route(compiled, monkeypatch):
    def not_taken(*args):
        raise AssertionError("another route was taken")

    monkeypatch.setattr(reader_module, "cut_capture_lines", not_taken)
    if compiled:
        monkeypatch.setattr(reader_module, "split_piece", not_taken)
    batches, stats = read([common(), common(5)], True, monkeypatch, compiled=compiled, names=["label", "a"])
    frame = batches[0].frame
    assert frame.columns == ["label", "a", "_c2", "_c3"]
    assert frame.row(1) == ("0.1", "1", "0.25", "b") and frame.height == 45 and stats.rows == 45


def test_lines_not_of_the_shape_have_no_layout():
    assert layout_of(line(encoding="JSON"), ["endpointInput"], True) is None
    assert layout_of(line(metadata='"n":5'), ["endpointInput"], True) is None
    assert layout_of("not json", ["endpointInput"], True) is None
    layout = layout_of(line(), ["endpointInput", "endpointOutput"], True)
    assert layout is not None and layout.analysed == ("endpointOutput:0", "endpointInput:0", "endpointInput:1",
                                                      "endpointInput:2")


@pytest.mark.parametrize("compiled", [False, True], ids=["polars pass", "compiled pass"])
@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xed\xa0\x80"])
def test_bytes_not_utf8_read_as_the_other_route_reads_them(bad, compiled, monkeypatch):
    data = ("\n".join(common()) + "\n").encode()
    data = data.replace(b"0.25", b"0.25" + bad, 1)

    if compiled:
        require_compiled_pass()

    def batches(direct: bool):
        with monkeypatch.context() as patch:
            if not direct:
                patch.setattr(reader_module, "layout_of", lambda *args: None)
            patch.setattr(reader_module, "SCAN_MIN_BYTES", 0 if compiled else 1 << 62)
            reader = CaptureReader(batch_rows=1000)
            return list(reader.batches([data])), reader.stats

    (mine, my_stats), (theirs, their_stats) = batches(True), batches(False)
    assert my_stats == their_stats and len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert_frame_equal(a.frame, b.frame)
        assert a.type_counts == b.type_counts


def assert_same_reading(files: list[list[str]], monkeypatch, compiled_only: bool = False, **options) -> None:
    """The compiled pass (with the polars pass after it, or, `compiled_only`, alone) reads the files as the
    other route does."""
    with monkeypatch.context() as patch:
        if compiled_only:
            patch.setattr(reader_module, "split_piece", lambda *args: pytest.fail("the polars pass was taken"))
        compiled, compiled_stats = read(files, True, monkeypatch, compiled=True, **options)
    other, other_stats = read(files, False, monkeypatch, **options)
    assert compiled_stats == other_stats and len(compiled) == len(other)
    for mine, theirs in zip(compiled, other, strict=True):
        assert_frame_equal(mine.frame, theirs.frame)
        assert mine.type_counts == theirs.type_counts


# Bytes that matter to the layout: separators, quotes, escapes, signs, digits, exponents, a non-ASCII byte.
_MUTATIONS = st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(list(b',"\\\n{}:. -+0159eEtrufalsn\xc3\x00'))),
                      max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=_MUTATIONS, json_payload=st.booleans(), delete=st.booleans())
def test_mutated_lines_read_the_same_by_the_compiled_pass(mutations, json_payload, delete, monkeypatch):
    """Any few bytes changed or removed anywhere in a piece: the compiled pass reads it as the other route
    does (it takes the piece only when every line is still of the layout)."""
    lines = json_common(6) if json_payload else common(6)
    data = bytearray(("\n".join(lines) + "\n").encode())
    for position, byte in mutations:
        at = position % len(data)
        if delete:
            del data[at]
        else:
            data[at] = byte
    text = data.decode("utf-8", errors="replace")
    assert_same_reading([text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")], monkeypatch,
                        start="2024-05-01T05:00:00Z", end="2024-05-01T14:00:00Z")


@pytest.mark.parametrize("value", ["1", "-0", "+5", " 5", "- 5", "1.", ".5", "1e5", "1E+5", "1.5e-3", "1e", "1.e5",
                                   "0x10", "true", "false", "True", "nan", "inf", "--1", "1 ", "1234567890123456789",
                                   "a" * 13, "b" * 12, ""])
def test_each_value_is_classed_as_deequ_classes_it(value, monkeypatch):
    """The compiled pass's hand-written class matchers against the patterns, value by value, in CSV and JSON."""
    assert_same_reading([[*common(3), line(f"{value},{value},{value}")]], monkeypatch, compiled_only=True)
    json_value = value if value in {"1", "-0", "1e5", "1E+5", "1.5e-3", "true", "false"} else f'\\"{value}\\"'
    body = f'{{\\"a\\":{json_value},\\"b\\":1,\\"c\\":\\"x\\"}}'
    assert_same_reading([[*json_common(3), json_line(body)]], monkeypatch, compiled_only=True)


def test_a_panic_of_polars_reader_sends_the_piece_to_the_other_route(monkeypatch):
    """polars raises PanicException (a BaseException, not an Exception) when its reader panics on some odd
    input: the piece is then read by the other route, as for any line the direct route does not take."""
    import polars as pl

    import watchkeeper.capture.direct as direct_module

    read_csv = pl.read_csv

    def panics_on_capture_lines(source, *args, **kwargs):  # the direct route's read of a piece's bytes
        if isinstance(source, bytes) and source.startswith(b'{"captureData"') and kwargs.get("separator") == ",":
            raise pl.exceptions.PanicException("a polars panic")
        return read_csv(source, *args, **kwargs)

    expected, expected_stats = read([common()], False, monkeypatch)
    monkeypatch.setattr(direct_module.pl, "read_csv", panics_on_capture_lines)
    batches, stats = read([common()], True, monkeypatch)
    assert stats == expected_stats
    assert_frame_equal(batches[0].frame, expected[0].frame)

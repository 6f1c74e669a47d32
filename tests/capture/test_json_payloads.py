"""JSON payloads flattened to CSV text (`capture/payloads.py`): objects that all share the first one's keys
are cut from their text; anything else goes to the JSON parser. Both give the same fields."""

from __future__ import annotations

import polars as pl
import pytest

from watchkeeper.capture.payloads import _same_key_objects, flat_json, parsed_flat_json

SAME_KEYS = ['{"a":1.5,"b":"red","c":-2,"d":true,"e":0.25}', '{"a":22.5,"b":"blue","c":0,"d":false,"e":1e-05}',
             '{"a":3.5,"b":"with space","c":17,"d":true,"e":2.5}']


def test_objects_with_the_same_keys_are_cut_from_their_text():
    texts = pl.Series(SAME_KEYS)
    assert _same_key_objects(texts).to_list() == ["1.5,red,-2,true,0.25", "22.5,blue,0,false,1e-05",
                                                   "3.5,with space,17,true,2.5"]


def test_cut_and_parsed_agree_where_numbers_are_written_as_the_parser_writes_them():
    texts = pl.Series([text.replace("1e-05", "0.5") for text in SAME_KEYS])
    assert _same_key_objects(texts).to_list() == parsed_flat_json(texts).to_list()


@pytest.mark.parametrize("texts", [
    ['{"a":1,"b":null}', '{"a":2,"b":3}'],                # null: an empty field, not the text "null"
    ['{"a":1,"b":2}', '{"b":2,"a":1}'],                   # other key order
    ['{"a":1,"b":2}', '{"a":1}'],                         # a missing key
    ['{"a":1,"b":{"c":2}}', '{"a":1,"b":{"c":3}}'],       # nested
    ['{"a":"x\\"y","b":2}', '{"a":"z","b":3}'],           # escapes
    ['{"a b":1}', '{"a b":2}'],                           # a key the cutter does not take
    ['[1,2]', '[3,4]'],                                   # arrays
    ['{"a":01}', '{"a":2}'],                              # not JSON
])
def test_anything_else_goes_to_the_parser(texts):
    series = pl.Series(texts)
    assert _same_key_objects(series) is None
    assert flat_json(series).to_list() == parsed_flat_json(series).to_list()

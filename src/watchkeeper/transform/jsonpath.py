"""The JSONPath subset batch transform's DataProcessing filters accept, as AWS documents it ("Supported JSONPath
operators"): `$` the root, `.name` or `['name']` a child, `*` every child, `['a','b']` several children,
`[n]` / `[n,m]` indexes (negative counts from the end), `[start:end]` slices (either end may be left out), and
indexes and slices mixed (`$[0,5:]`). Several children in one bracket are allowed only in the last step
(AWS: `$.field1.['child1','child2']` is supported, deeper nesting inside brackets is not).

A path is parsed once (at create time, so a bad filter is a ValidationException) and applied to each record:
a CSV record is its row as a list of strings, a JSON record its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_INDEX = re.compile(r"-?\d+")
_SLICE = re.compile(r"(-?\d+)?:(-?\d+)?")


class JsonPathError(ValueError):
    """A filter that is not in the supported subset."""


class SelectionError(ValueError):
    """A filter that selects nothing in a record (a missing field, an index past the end)."""


@dataclass(frozen=True)
class Step:
    kind: str  # "name" | "names" | "index" | "multi" | "wildcard"
    names: tuple[str, ...] = ()
    # "index": one int; "multi": ints and (start, end) slices
    items: tuple[int | tuple[int | None, int | None], ...] = ()


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[Step, ...]

    @property
    def is_root(self) -> bool:
        return not self.steps

    def apply(self, value: Any) -> Any:
        for step in self.steps:
            value = _apply(step, value, self.text)
        return value


def parse(text: str) -> JsonPath:
    """The parsed path; JsonPathError says what is not supported."""
    source = text.strip()
    if not source.startswith("$"):
        raise JsonPathError(f"JSONPath '{text}' must start with '$'")
    steps: list[Step] = []
    at = 1
    while at < len(source):
        if steps and steps[-1].kind in ("names", "multi", "wildcard"):
            raise JsonPathError(f"JSONPath '{text}': several children can only be selected in the last step")
        char = source[at]
        if char == ".":
            at += 1
            if at < len(source) and source[at] == "[":
                continue  # `$.field.['a','b']`, as AWS's documentation writes it
            if at < len(source) and source[at] == "*":
                steps.append(Step("wildcard"))
                at += 1
                continue
            match = _NAME.match(source, at)
            if not match:
                raise JsonPathError(f"JSONPath '{text}': expected a field name at position {at}")
            steps.append(Step("name", names=(match.group(),)))
            at = match.end()
        elif char == "[":
            end = source.find("]", at)
            if end < 0:
                raise JsonPathError(f"JSONPath '{text}': '[' without ']'")
            steps.append(_bracket(source[at + 1 : end].strip(), text))
            at = end + 1
        else:
            raise JsonPathError(f"JSONPath '{text}': unexpected '{char}' at position {at}")
    return JsonPath(text, tuple(steps))


def _bracket(inside: str, text: str) -> Step:
    if inside == "*":
        return Step("wildcard")
    if inside.startswith(("'", '"')):
        names = []
        for part in _split(inside):
            if len(part) < 2 or part[0] != part[-1] or part[0] not in "'\"":
                raise JsonPathError(f"JSONPath '{text}': '{part}' is not a quoted name")
            names.append(part[1:-1])
        return Step("name", names=tuple(names)) if len(names) == 1 else Step("names", names=tuple(names))
    items: list[int | tuple[int | None, int | None]] = []
    for part in _split(inside):
        if _INDEX.fullmatch(part):
            items.append(int(part))
        elif match := _SLICE.fullmatch(part):
            start, end = match.groups()
            items.append((int(start) if start else None, int(end) if end else None))
        else:
            raise JsonPathError(f"JSONPath '{text}': '[{inside}]' is neither names, indexes nor a slice")
    if len(items) == 1 and isinstance(items[0], int):
        return Step("index", items=tuple(items))
    return Step("multi", items=tuple(items))


def _split(inside: str) -> list[str]:
    parts = [part.strip() for part in inside.split(",")]
    if not parts or any(not part for part in parts):
        raise JsonPathError(f"JSONPath bracket '[{inside}]' has an empty element")
    return parts


def _apply(step: Step, value: Any, text: str) -> Any:
    if step.kind == "name":
        if not isinstance(value, dict) or step.names[0] not in value:
            raise SelectionError(f"JSONPath '{text}' selects nothing: no field '{step.names[0]}'")
        return value[step.names[0]]
    if step.kind == "names":
        if not isinstance(value, dict):
            raise SelectionError(f"JSONPath '{text}' selects fields of a value that is not a JSON object")
        return {name: value[name] for name in step.names if name in value}
    if step.kind == "wildcard":
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return list(value)
        raise SelectionError(f"JSONPath '{text}' selects the children of a value that has none")
    if not isinstance(value, list):
        raise SelectionError(f"JSONPath '{text}' indexes a value that is not an array (or CSV row)")
    if step.kind == "index":
        index = step.items[0]
        assert isinstance(index, int)
        if not -len(value) <= index < len(value):
            raise SelectionError(f"JSONPath '{text}': index {index} is past the end of a record of {len(value)}")
        return value[index]
    selected: list[Any] = []
    for item in step.items:
        if isinstance(item, int):
            if not -len(value) <= item < len(value):
                raise SelectionError(f"JSONPath '{text}': index {item} is past the end of a record of {len(value)}")
            selected.append(value[item])
        else:
            selected.extend(value[item[0] : item[1]])
    return selected

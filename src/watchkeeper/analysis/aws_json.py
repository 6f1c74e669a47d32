"""JSON text exactly as SageMaker's analyzer writes it (spec §5.1).

The analyzer is a Scala job that prints its documents with Jackson's `DefaultPrettyPrinter`:

    {
      "version" : 0.0,
      "features" : [ {
        "name" : "Churn",
        "data" : [ [ 0.0, 1.0 ], [ 0.0 ] ]
      }, {
        ...
      } ]
    }

- objects: one entry per line, 2-space indent, `"key" : value`; an empty object is `{ }`;
- arrays stay on the line they open: `[ a, b ]`, objects in arrays continue it (`[ {` ... `}, {` ... `} ]`);
  an empty array is `[ ]`;
- Python floats are Java doubles, printed as `Double.toString` does (`325.0`, `1.0E7`, `1.0E-4`); Python
  ints are Java longs (`2333`). NaN and infinities are written as the strings Jackson writes by default.

The digits are the shortest that read back to the same double (Python's `repr`, and Java's since JDK 19);
older JDKs occasionally print one more digit than needed — not seen in any real AWS file we have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_INDENT = "  "
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def dumps(document: Mapping[str, Any]) -> str:
    """`document` as Jackson's pretty printer writes it (no trailing newline, like Jackson)."""
    out: list[str] = []
    _write(document, 0, out)
    return "".join(out)


def java_double(value: float) -> str:
    """Java's `Double.toString(value)`: plain between 1e-3 and 1e7, computerized scientific otherwise."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(magnitude)
        if "e" not in text:
            return sign + text
        # repr switches to exponents below 1e-4; Java does not until 1e-3.
        digits, exponent = _digits(text)
        return sign + _plain(digits, exponent)
    digits, exponent = _digits(repr(magnitude))
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def _digits(text: str) -> tuple[str, int]:
    """Significant digits of a positive repr and the decimal exponent of the first one (d.ddd x 10^e)."""
    mantissa, _, exp = text.partition("e")
    exponent = int(exp) if exp else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    leading_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    exponent += len(whole) - 1 - leading_zeros
    digits = digits.rstrip("0") or "0"
    return digits, exponent


def _plain(digits: str, exponent: int) -> str:
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    frac = digits[exponent + 1 :] or "0"
    return f"{whole}.{frac}"


def _string(text: str) -> str:
    out = ['"']
    for ch in text:
        escaped = _ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _float(value: float) -> str:
    if 1e-3 <= abs(value) < 1e7 and not value.is_integer():  # most values: Java prints what repr prints
        return repr(value)
    if value.is_integer() and -1e7 < value < 1e7:
        return "-0.0" if value == 0.0 and math.copysign(1.0, value) < 0 else f"{value:.1f}"
    if math.isnan(value) or math.isinf(value):
        return _string(java_double(value))
    return java_double(value)


def _floats(values: Sequence[float]) -> str:
    """Floats joined by ", ", as `_float` writes each. When all are in repr's range, polars writes them:
    its shortest round-trip digits are repr's there (tests/analysis/test_aws_json.py), four times faster."""
    array = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(array)
    if len(array) >= 64 and bool(np.all((magnitude >= 1e-3) & (magnitude < 1e7) & (array != np.trunc(array)))):
        import polars as pl  # here: this module is imported where polars need not be

        return str(pl.Series(array).cast(pl.String).str.join(", ").item())
    return ", ".join(map(_float, values))


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (float, np.floating)):
        return _float(float(value))  # NaN and infinities as strings: Jackson's WRITE_NAN_AS_STRINGS
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot write {type(value).__name__} as AWS JSON: {value!r}")


def _write(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out.append("{ }")
            return
        out.append("{")
        first = True
        for key, item in value.items():
            out.append("\n" if first else ",\n")
            first = False
            out.append(_INDENT * (level + 1))
            out.append(_string(str(key)))
            out.append(" : ")
            _write(item, level + 1, out)
        out.append("\n" + _INDENT * level + "}")
    elif isinstance(value, np.ndarray):
        _write(value.tolist(), level, out)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if not value:
            out.append("[ ]")
            return
        if all(type(item) is float for item in value):  # sketch data: the bulk of statistics.json
            out.append("[ " + _floats(value) + " ]")
            return
        out.append("[ ")
        first = True
        for item in value:
            if not first:
                out.append(", ")
            first = False
            _write(item, level, out)
        out.append(" ]")
    else:
        out.append(_scalar(value))

"""The container's `dataset_format` (spec §4.2)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watchkeeper.jobs.toolkit.summary import JobFailed


@dataclass(frozen=True)
class DatasetFormat:
    """The container's `dataset_format` (spec §4.2)."""

    kind: str  # "csv" | "json" | "parquet" | "capture" | "merge"
    header: bool = False
    lines: bool = True
    output_columns_position: str = "START"
    capture_indices: tuple[str, ...] = ("endpointInput", "endpointOutput")

    @property
    def output_first(self) -> bool:
        return self.output_columns_position.upper() != "END"

    @classmethod
    def parse(cls, value: str | Mapping[str, Any] | None) -> DatasetFormat:
        """`{"csv": {"header": true, "output_columns_position": "START"}}`, `{"json": {"lines": true}}`,
        `{"parquet": {}}`, `{"sagemakerCaptureJson": {"captureIndexNames": [...]}}`, ... (a JSON string or
        a dict; the SDK's `DatasetFormat.*()` dicts and the API's `{"Csv": {"Header": ...}}` spelling)."""
        if value is None:
            return cls("csv")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise JobFailed(f"ClientError: dataset_format is not JSON ({exc}): {value[:200]!r}") from None
        if not isinstance(value, Mapping) or not all(
            isinstance(options, Mapping | None) for key, options in value.items() if key.lower() != "compression"
        ):
            raise JobFailed(
                f"ClientError: dataset_format must be a JSON object such as {{\"csv\": {{}}}}, got {value!r:.200}"
            )
        formats = {k: v for k, v in value.items() if k.lower() != "compression"}
        if len(formats) != 1:
            raise JobFailed(f"dataset_format must name exactly one format, got {sorted(formats)}")
        (key, options), = formats.items()
        options = {_snake(k): v for k, v in (options or {}).items()}
        key = key.lower()
        if key == "csv":
            return cls("csv", header=_flag(options.get("header", False)),
                       output_columns_position=str(options.get("output_columns_position", "START")))
        if key == "json":
            return cls("json", lines=_flag(options.get("lines", options.get("line", True))),
                       output_columns_position=str(options.get("output_columns_position", "START")))
        if key == "parquet":
            return cls("parquet", output_columns_position=str(options.get("output_columns_position", "START")))
        if key in ("sagemakercapturejson", "sagemakermergejson"):
            indices = tuple(options.get("capture_index_names") or ("endpointInput", "endpointOutput"))
            return cls("capture" if key == "sagemakercapturejson" else "merge", capture_indices=indices,
                       output_columns_position=str(options.get("output_columns_position", "START")))
        raise JobFailed(f"Unsupported dataset_format {key!r}: use csv, json, parquet or sagemakerCaptureJson")


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"

"""Clarify's `analysis_config.json` (spec §10.1, §11): the parts the job's plumbing reads — where the data
is (`dataset_type`, `headers`, `label`, `features`, `excluded_columns`) and how to call the model
(`predictor`). The bias and SHAP members are parsed by `analysis.bias.config` and `analysis.explain.config`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchkeeper.jobs.toolkit.summary import JobFailed

CONFIG_MAX_BYTES = 4 * 1024 * 1024  # an analysis config is a few KB; a SHAP baseline list may be larger
CSV = "text/csv"
JSON_LINES = "application/jsonlines"
JSON = "application/json"
PARQUET = "application/x-parquet"
DATASET_TYPES = (CSV, JSON_LINES, JSON, PARQUET)


@dataclass(frozen=True)
class PredictorSpec:
    """How to call the model (Clarify's `predictor`): request and answer formats, where the answer's label and
    score are. `model_name` names a SageMaker model whose server Watchkeeper knows (WATCHKEEPER_UPSTREAM_URL)."""

    model_name: str | None
    endpoint_name: str | None
    content_type: str
    accept_type: str
    content_template: str | None
    record_template: str | None
    label: str | int | None
    probability: str | int | None
    probability_threshold: float | None
    label_headers: tuple[str, ...] | None

    @classmethod
    def parse(cls, value: Any, dataset_type: str) -> PredictorSpec:
        if not isinstance(value, Mapping):
            raise JobFailed("ClientError: analysis_config.json member 'predictor' must be an object")
        content_type = str(value.get("content_type") or (dataset_type if dataset_type != PARQUET else CSV))
        threshold = value.get("probability_threshold")
        try:
            threshold = None if threshold is None else float(threshold)
        except (TypeError, ValueError):
            raise JobFailed(f"ClientError: predictor.probability_threshold must be a number, got {threshold!r}") \
                from None
        headers = value.get("label_headers")
        return cls(
            model_name=_optional_text(value.get("model_name")),
            endpoint_name=_optional_text(value.get("endpoint_name")),
            content_type=content_type,
            accept_type=str(value.get("accept_type") or content_type),
            content_template=_optional_text(value.get("content_template")),
            record_template=_optional_text(value.get("record_template")),
            label=value.get("label"),
            probability=value.get("probability"),
            probability_threshold=threshold,
            label_headers=tuple(str(h) for h in headers) if isinstance(headers, list) else None,
        )


@dataclass(frozen=True)
class ClarifyConfig:
    document: dict[str, Any]
    dataset_type: str
    headers: tuple[str, ...] | None
    label: str | int | None
    features: str | None  # a JMESPath to the features (JSON and JSON Lines datasets)
    excluded_columns: tuple[str | int, ...]
    predictor: PredictorSpec | None

    @property
    def methods(self) -> Mapping[str, Any]:
        methods = self.document.get("methods") or {}
        return methods if isinstance(methods, Mapping) else {}

    @property
    def label_name(self) -> str | None:
        """The label's column name: a header name, the header at an index, or the JMESPath's own text."""
        if self.label is None:
            return None
        if isinstance(self.label, int) and self.headers and 0 <= self.label < len(self.headers):
            return self.headers[self.label]
        return str(self.label)


def _optional_text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value)


def parse_config(document: Any, *, default_dataset_type: str = CSV) -> ClarifyConfig:
    if not isinstance(document, dict):
        raise JobFailed("ClientError: analysis_config.json must be a JSON object")
    dataset_type = str(document.get("dataset_type") or default_dataset_type)
    if dataset_type not in DATASET_TYPES:
        raise JobFailed(
            f"ClientError: analysis_config.json dataset_type {dataset_type!r} is not supported; "
            f"use one of {', '.join(DATASET_TYPES)}"
        )
    headers = document.get("headers")
    if headers is not None and (not isinstance(headers, list) or not all(isinstance(h, str | int) for h in headers)):
        raise JobFailed("ClientError: analysis_config.json member 'headers' must be a list of column names")
    excluded = document.get("excluded_columns") or []
    if not isinstance(excluded, list):
        raise JobFailed("ClientError: analysis_config.json member 'excluded_columns' must be a list")
    predictor = document.get("predictor")
    return ClarifyConfig(
        document=document,
        dataset_type=dataset_type,
        headers=tuple(str(h) for h in headers) if headers is not None else None,
        label=document.get("label"),
        features=_optional_text(document.get("features")),
        excluded_columns=tuple(excluded),
        predictor=None if predictor is None else PredictorSpec.parse(predictor, dataset_type),
    )


def read_config(folder: Path) -> ClarifyConfig:
    """`analysis_config.json` from the config input folder (the file itself, or the one JSON file in it)."""
    path = folder / "analysis_config.json" if folder.is_dir() else folder
    if folder.is_dir() and not path.is_file():
        candidates = sorted(p for p in folder.rglob("*.json") if p.is_file())
        if len(candidates) != 1:
            raise JobFailed(
                f"ClientError: no analysis_config.json in {folder.name} (found {len(candidates)} JSON files)"
            )
        path = candidates[0]
    if not path.is_file():
        raise JobFailed("ClientError: the analysis_config input is missing (input 'analysis_config' at "
                        "/opt/ml/processing/input/config)")
    if path.stat().st_size > CONFIG_MAX_BYTES:
        raise JobFailed(f"ClientError: analysis_config.json is larger than {CONFIG_MAX_BYTES // 1024 // 1024} MB")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JobFailed(f"ClientError: analysis_config.json is not valid JSON: {exc}") from None
    return parse_config(document)

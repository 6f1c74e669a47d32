"""The real AWS Clarify bias artifacts (tests/fixtures/aws/adult-clarify-bias-and-explainability/) as tables
and documents."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl

from tests.aws_fixtures import aws_fixture

FOLDER = "adult-clarify-bias-and-explainability"
HEADERS = ["Age", "Workclass", "fnlwgt", "Education", "Education-Num", "Marital Status", "Occupation",
           "Relationship", "Ethnic group", "Sex", "Capital Gain", "Capital Loss", "Hours per week", "Country",
           "Target"]


def load(name: str) -> Any:
    return json.loads(aws_fixture(FOLDER, name).read_text())


def adult_table() -> pl.DataFrame:
    """validation-dataset.json as the integrator hands it over: one column per header, the label last."""
    instances = load("validation-dataset.json")["instances"]
    features = np.array([row["features"] for row in instances], dtype=np.int64)
    columns = {header: features[:, i] for i, header in enumerate(HEADERS[:-1])}
    return pl.DataFrame({**columns, "Target": np.array([row["label"] for row in instances], dtype=np.int64)})


def adult_config() -> dict[str, Any]:
    """The reconstructed analysis_config.json with the label resolved to its column (as the integrator
    does for JSON datasets)."""
    config = load("bias-analysis_config.reconstructed.json")
    config["label"] = "Target"
    return config


def metric_values(section: dict[str, Any], facet: str = "Sex", index: int = 0) -> dict[str, Any]:
    return {m["name"]: m["value"] for m in section["facets"][facet][index]["metrics"]}

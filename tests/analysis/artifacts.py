"""The real AWS churn data-quality artifacts, kept in the repository (tests/fixtures/aws/)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.aws_fixtures import aws_fixture

ARTIFACTS = aws_fixture("churn-data-quality")

TRAINING_CSV = ARTIFACTS / "training-dataset-with-header.csv"


@cache
def aws_statistics() -> dict[str, Any]:
    """AWS's statistics.json for the churn baseline: the 33 features the log kept, with the 4 sketches
    the log truncated filled in from reconstructed-sketch-data.json (recomputed, not AWS's)."""
    document = json.loads((ARTIFACTS / "statistics.partial.json").read_text())
    reconstructed = json.loads((ARTIFACTS / "reconstructed-sketch-data.json").read_text())["features"]
    for feature in document["features"]:
        sketch = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]
        if sketch["data"] is None:
            sketch["data"] = reconstructed[feature["name"]]
    return document


def truncated_sketch_features() -> set[str]:
    document = json.loads((ARTIFACTS / "statistics.partial.json").read_text())
    return {f["name"] for f in document["features"]
            if f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"] is None}


def aws_statistics_text() -> str:
    """The statistics JSON exactly as AWS's analyzer logged it, up to the first truncation marker."""
    text = (ARTIFACTS / "statistics.log-excerpt.txt").read_text()
    return text[: text.index("[TRUNCATED")]

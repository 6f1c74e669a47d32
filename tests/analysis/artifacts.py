"""The real AWS churn data-quality artifacts (spec §12.1), beside the repository in shared/."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(
    os.environ.get("WATCHKEEPER_REAL_ARTIFACTS", Path(__file__).resolve().parents[3] / "shared" / "real-artifacts")
) / "churn-data-quality"

needs_artifacts = pytest.mark.skipif(
    not ARTIFACTS.is_dir(), reason=f"real AWS artifacts not found at {ARTIFACTS} (set WATCHKEEPER_REAL_ARTIFACTS)"
)

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

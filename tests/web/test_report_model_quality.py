"""`watchkeeper report` on a model-quality report folder (S3 URI form): the metrics table and the confusion
matrix show what statistics.json holds, and the matrix matches counts made here from the records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.web.conftest import shot


def test_model_quality_report(tmp_path: Path, page: Any) -> None:
    records = [{"score": s / 10, "truth": "yes" if s >= 5 else "no"} for s in range(10)] * 3
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    data = tmp_path / "data"
    folder = data / "s3/mq/reports/run-1"
    made = subprocess.run(
        [sys.executable, "-m", "watchkeeper", "baseline", "--analysis-type", "model-quality", "--problem-type",
         "BinaryClassification", "--probability-attribute", "score", "--probability-threshold-attribute", "0.7",
         "--positive-label", "yes", "--ground-truth-attribute", "truth", "--dataset", str(tmp_path / "d.jsonl"),
         "--format", "jsonl", "--output", str(folder), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert made.returncode == 0, made.stderr
    output = tmp_path / "mq.html"
    done = subprocess.run(
        [sys.executable, "-m", "watchkeeper", "report", "s3://mq/reports/run-1", "--data-dir", str(data),
         "-o", str(output)], capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    page.goto(output.as_uri())
    metrics = json.loads((folder / "statistics.json").read_text())["binary_classification_metrics"]
    shown = {row.locator("td").nth(0).inner_text(): row.locator("td").nth(1).inner_text()
             for row in page.locator("#quality tbody tr").all()}
    scalar = {k: v["value"] for k, v in metrics.items() if isinstance(v, dict) and isinstance(v.get("value"), float)}
    assert scalar and {k: shown[k] for k in scalar} == {k: f"{v:.6g}" for k, v in scalar.items()}
    # The confusion matrix, counted here: predicted "yes" when the score is at least 0.7.
    expected = Counter((r["truth"], "yes" if r["score"] >= 0.7 else "no") for r in records)
    cells = {}
    for row in page.locator("table.confusion tr").all():
        actual = row.locator("th").inner_text()
        for cell in row.locator("td").all():
            predicted, count = cell.inner_text().split(": ")
            cells[(actual, predicted)] = int(count)
    assert cells == {key: expected.get(key, 0) for key in cells} and sum(cells.values()) == len(records)
    # A folder without constraint_violations.json has none: nothing to warn about.
    assert page.locator("#no-violations").count() == 1 and page.locator("#problems").count() == 0
    shot(page, "08-report-model-quality")

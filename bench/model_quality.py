"""Model-quality job throughput: a binary validation CSV (probability, prediction, label) and merged
capture + ground-truth JSON Lines records, through `model_quality_job`.

    .venv/bin/python bench/model_quality.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from watchkeeper.jobs.analyzers.model_quality import model_quality_job
from watchkeeper.jobs.toolkit.job_log import JobLog


def make_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    label = (rng.random(rows) < 0.3).astype(np.int8)
    probability = np.clip(rng.normal(0.3 + 0.4 * label, 0.2), 0, 1)
    pl.DataFrame({"probability": probability, "prediction": (probability >= 0.5).astype(np.int8),
                  "label": label}).write_csv(path)


def make_merged(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    label = (rng.random(rows) < 0.3).astype(np.int8)
    probability = np.clip(rng.normal(0.3 + 0.4 * label, 0.2), 0, 1)
    frame = pl.DataFrame({"p": probability.round(6).astype(str), "y": label.astype(str),
                          "i": np.arange(rows).astype(str)})
    line = pl.concat_str(
        pl.lit('{"eventVersion":"0","groundTruthData":{"data":"'), pl.col("y"),
        pl.lit('","encoding":"CSV"},"captureData":{"endpointOutput":{"data":"'), pl.col("p"),
        pl.lit('","encoding":"CSV","mode":"OUTPUT","observedContentType":"text/csv"}},"eventMetadata":'
               '{"eventId":"e'), pl.col("i"), pl.lit('","inferenceId":"'), pl.col("i"),
        pl.lit('","inferenceTime":"2024-05-01T10:30:00Z"}}'))
    frame.select(line.alias("l")).write_csv(path, include_header=False, quote_style="never")


def timed(label: str, source: Path, out: Path, fmt: dict, **kwargs) -> None:
    size = source.stat().st_size
    start = time.perf_counter()
    with open(out.parent / "bench.log", "w") as log:
        summary = model_quality_job(source, out, fmt, problem_type="BinaryClassification", log=JobLog(log),
                                    **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label}: {summary.item_count} rows, {size / 1e6:.1f} MB in {seconds:.2f} s "
          f"({summary.item_count / seconds / 1e6:.2f} M rows/s, {size / seconds / 1e6:.0f} MB/s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_csv(root / "validation.csv", args.rows)
        timed("CSV baseline", root / "validation.csv", root / "csv-out",
              {"csv": {"header": True}}, inference_attribute="prediction", probability_attribute="probability",
              ground_truth_attribute="label")
        statistics = json.loads((root / "csv-out" / "statistics.json").read_text())
        points = len(statistics["binary_classification_metrics"]["precision_recall_curve"]["recalls"])
        print(f"  statistics.json {(root / 'csv-out' / 'statistics.json').stat().st_size / 1e6:.1f} MB "
              f"({points} PR points)")
        (root / "merged").mkdir()
        make_merged(root / "merged" / "part-00000.jsonl", args.rows)
        timed("merged records", root / "merged" / "part-00000.jsonl", root / "merge-out",
              {"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}, probability_attribute="0",
              probability_threshold_attribute=0.5)


if __name__ == "__main__":
    main()

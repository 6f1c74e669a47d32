"""Bias metrics (pre- and post-training, one facet, a group variable) on merged records already in a table:
the computation `analysis/bias/report.py` does for a ModelBias execution, timed per data shape, with and
without FT (whose k-NN dominates).

    .venv/bin/python bench/bias.py [--rows 1000000] [--features 6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from watchkeeper.analysis.bias.config import bias_config
from watchkeeper.analysis.bias.names import POST_TRAINING, PRE_TRAINING
from watchkeeper.analysis.bias.report import bias_analysis


def make_table(shape: str, rows: int, features: int) -> tuple[pl.DataFrame, dict]:
    rng = np.random.default_rng(0)
    columns = {f"x{i}": rng.normal(size=rows) for i in range(features)}
    facet_spec: dict = {"name_or_index": "facet", "value_or_threshold": [1]}
    if shape == "threshold":
        columns["facet"] = rng.random(rows) * 100.0
        facet_spec["value_or_threshold"] = [62.5]
        advantaged = columns["facet"] <= 62.5
    elif shape == "20 values":
        columns["facet"] = rng.integers(0, 20, rows)
        facet_spec = {"name_or_index": "facet"}
        advantaged = columns["facet"] >= 5
    else:
        columns["facet"] = rng.integers(0, 2, rows)
        advantaged = columns["facet"] == 0
    columns["group"] = rng.integers(18, 90, rows)
    rate = 0.01 if shape == "rare positive 1%" else 0.5
    label = rng.random(rows) < rate * np.where(advantaged, 1.1, 0.9)
    score = columns["x0"] * 0.5 + label * 1.5 + rng.normal(size=rows)
    columns["label"] = label.astype(np.int64)
    columns["prediction"] = (score > np.quantile(score, 1 - rate)).astype(np.int64)
    config = {"label": "label", "label_values_or_threshold": [1], "facet": [facet_spec], "group_variable": "group"}
    return pl.DataFrame(columns), config


def timed(table: pl.DataFrame, config: dict, with_ft: bool) -> float:
    post = [m for m in POST_TRAINING if with_ft or m != "FT"]
    parsed = bias_config({**config, "methods": {"pre_training_bias": {"methods": list(PRE_TRAINING)},
                                                "post_training_bias": {"methods": post}}})
    start = time.perf_counter()
    bias_analysis(table, parsed, predicted="prediction", pre_training=True, post_training=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=6)
    args = parser.parse_args()
    for shape in ("balanced binary", "rare positive 1%", "threshold", "20 values"):
        table, config = make_table(shape, args.rows, args.features)
        without_ft = timed(table, config, with_ft=False)
        with_ft = timed(table, config, with_ft=True)
        print(f"{shape}: {args.rows:,} rows, {args.features} features: without FT {without_ft:.2f} s, "
              f"all metrics {with_ft:.2f} s")


if __name__ == "__main__":
    main()

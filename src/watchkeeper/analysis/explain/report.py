"""The explainability analysis.json document (spec §11) and the rows of the local SHAP values file.

analysis.json, as Clarify writes it (real file: tests/fixtures/aws/adult-clarify-bias-and-explainability/):
`{"version": "1.0", "explanations": {"kernel_shap": {<label>: {"global_shap_values": {<feature>: v, ...},
"expected_value": v}}}}`, features in header order, one entry per model output. Labels are the predictor's
`label_headers` when given, else `label0`, `label1`, ...

`explanations_shap/out.csv` (save_local_shap_values): the docs say "local SHAP values for each row in the
dataset ... in the same format as input dataset"; public notebooks read it as one column per feature named
`<feature>_<label>` (they strip `_label0`) in record order. Here: the join-source column first when the config
names one, then label by label, feature by feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def label_names(label_headers: Sequence[str] | None, outputs: int) -> list[str]:
    """The label keys: the predictor's label_headers when they name every output, else label0, label1, ..."""
    if label_headers and len(label_headers) == outputs:
        return [str(h) for h in label_headers]
    return [f"label{i}" for i in range(outputs)]


def explanation_analysis(headers: list[str], label_names: list[str], global_values: np.ndarray,
                         expected_value: np.ndarray) -> dict[str, Any]:
    """The analysis.json document; `global_values` is features x outputs, `expected_value` one per output."""
    global_values = np.asarray(global_values, dtype=float)
    if global_values.ndim == 1:
        global_values = global_values[:, None]
    expected = np.atleast_1d(np.asarray(expected_value, dtype=float))
    outputs = global_values.shape[1]
    labels = list(label_names) if label_names else [f"label{i}" for i in range(outputs)]
    if len(headers) != global_values.shape[0]:
        raise ValueError(f"{len(headers)} headers for {global_values.shape[0]} features")
    if len(labels) != outputs or expected.size != outputs:
        raise ValueError(f"{len(labels)} labels and {expected.size} expected values for {outputs} model outputs")
    kernel_shap = {
        label: {
            "global_shap_values": {h: float(v) for h, v in zip(headers, global_values[:, k], strict=True)},
            "expected_value": float(expected[k]),
        }
        for k, label in enumerate(labels)
    }
    return {"version": "1.0", "explanations": {"kernel_shap": kernel_shap}}


def local_shap_rows(headers: list[str], label_names: list[str], local: np.ndarray, *,
                    join_source: tuple[str, Sequence[Any]] | None = None) -> tuple[list[str], np.ndarray]:
    """The column names and the values (records x columns) of explanations_shap/out.csv; with `join_source`
    (its header and values) the values come back as an object array with that column first."""
    local = np.asarray(local, dtype=float)
    if local.ndim == 2:
        local = local[:, :, None]
    records, features, outputs = local.shape
    if len(headers) != features or len(label_names) != outputs:
        raise ValueError(f"{len(headers)} headers and {len(label_names)} labels for local values {local.shape}")
    columns = [f"{h}_{label}" for label in label_names for h in headers]
    values = local.transpose(0, 2, 1).reshape(records, outputs * features)  # label-major, as the columns
    if join_source is None:
        return columns, values
    name, ids = join_source
    if len(ids) != records:
        raise ValueError(f"{len(ids)} join-source values for {records} records")
    table = np.empty((records, values.shape[1] + 1), dtype=object)
    table[:, 0] = list(ids)
    table[:, 1:] = values
    return [name, *columns], table

"""Small black-box models the Kernel SHAP tests explain, and shap's KernelExplainer as the reference."""

from __future__ import annotations

import warnings

import numpy as np

RNG = np.random.default_rng(20261130)
WEIGHTS = RNG.normal(size=64)


def linear(rows: np.ndarray) -> np.ndarray:
    return rows @ WEIGHTS[: rows.shape[1]] + 0.25


def logistic(rows: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(rows @ WEIGHTS[: rows.shape[1]])))


def interactions(rows: np.ndarray) -> np.ndarray:
    """Nonlinear, with pairwise and three-way interactions."""
    return np.sin(rows[:, 0]) * rows[:, 1] + rows[:, 2] ** 2 - rows[:, 0] * rows[:, 3] * rows[:, 4] + np.exp(
        0.3 * rows[:, -1])


def two_outputs(rows: np.ndarray) -> np.ndarray:
    p = logistic(rows) * 0.6 + 0.2 * np.tanh(rows[:, 0] * rows[:, 1])
    return np.column_stack([p, 1.0 - p, interactions(rows)])


def shap_reference(model, records: np.ndarray, background: np.ndarray, *, link: str = "identity") -> np.ndarray:
    """shap's exact values (records x features x outputs): every coalition enumerated, no L1 selection."""
    import shap

    explainer = shap.KernelExplainer(model, background, link=link)
    features = records.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = explainer.shap_values(records, nsamples=2**features, l1_reg=False, silent=True)
    values = np.asarray(values)
    if values.ndim == 2:
        values = values[:, :, None]
    return values

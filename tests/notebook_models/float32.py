"""The float32 arithmetic the containers' C++ does, reproduced with numpy."""

from __future__ import annotations

import numpy as np


def sigmoid32(margin: np.ndarray) -> np.ndarray:
    """`1.0f / (1.0f + expf(-x))` with a correctly rounded expf, as glibc's is.

    numpy's float32 exp is not correctly rounded: with it the notebook model's SHAP expected_value comes out one
    float32 step off AWS's, with exp in float64 rounded once to float32 it is bit-equal."""
    exp = np.exp(-np.asarray(margin, dtype=np.float32).astype(np.float64)).astype(np.float32)
    return (np.float32(1.0) / (np.float32(1.0) + exp)).astype(np.float32)

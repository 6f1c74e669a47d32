"""Kernel SHAP over a black-box model, vectorised, with few large model calls (Clarify's `methods.shap`).

For each record x, the players are the features whose value differs from some background row (as shap: a
feature equal to every background value gets 0). Coalitions z come from `coalitions.py`; a coalition's value
is the model's mean score over the background rows with the coalition's features taken from x:
v(z) = mean_b f(where(z, x, b)). The Shapley values solve the weighted least squares
min Σ w(z) (v(z) - v(∅) - Σ_{i∈z} φ_i)² under Σ φ_i = f(x) - v(∅) (efficiency). shap eliminates one variable
to meet the constraint; this solves the same constrained problem as one KKT system per record, all records of
a chunk at once (`np.linalg.solve` on a stack), with the players that do not vary pinned to 0.

Every synthetic row of a chunk of records goes to the model in one call (plus the records themselves, and the
background once), so a model behind HTTP sees few, large batches; `chunk_records` bounds the memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .background import background_summary
from .coalitions import coalitions, sample_count
from .config import AGG_METHODS
from .errors import ExplainInputError

__all__ = ["AGG_METHODS", "ShapResult", "aggregate", "background_summary", "explain"]

Predict = Callable[[np.ndarray], np.ndarray]
# One model call carries at most this many synthetic rows and this many cells (rows x features, float64:
# 16M cells = 128 MB for the matrix handed to the model).
MAX_ROWS_PER_CALL = 2_000_000
MAX_CELLS_PER_CALL = 16_000_000
LOGIT_EPSILON = 1e-12  # scores of exactly 0 or 1 are clipped so their logit stays finite


@dataclass(frozen=True)
class ShapResult:
    local: np.ndarray  # records x features x outputs
    expected_value: np.ndarray  # outputs: link(mean score over the background)
    model_calls: int  # how many times `predict` was called
    rows_sent: int  # how many rows it was given in all


def explain(predict: Predict, records: np.ndarray, background: np.ndarray, *, num_samples: int | None,
            seed: int | None, use_logit: bool = False, chunk_records: int | None = None,
            max_rows_per_call: int = MAX_ROWS_PER_CALL) -> ShapResult:
    """Local SHAP values of every record (deterministic given `seed`, whatever the chunking)."""
    records, background = _checked_inputs(records, background)
    if num_samples is not None and num_samples < 1:
        raise ExplainInputError(f"num_samples must be at least 1, not {num_samples}")
    width = records.shape[1]
    per_record = max(sample_count(width, num_samples), 1) * background.shape[0]
    if chunk_records is None:
        chunk_records = max(1, min(max_rows_per_call, MAX_CELLS_PER_CALL // max(width, 1)) // per_record)
    entropy = np.random.SeedSequence(seed).entropy
    model = _Model(predict, use_logit)
    locals_: list[np.ndarray] = []
    baseline_scores = None
    for start in range(0, records.shape[0], chunk_records):
        chunk = records[start:start + chunk_records]
        rngs = [np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(start + i,)))
                for i in range(chunk.shape[0])]
        phi, baseline_scores = _explain_chunk(model, chunk, background, num_samples, rngs, baseline_scores)
        locals_.append(phi)
    assert baseline_scores is not None
    return ShapResult(np.concatenate(locals_), model.link(baseline_scores.mean(axis=0)), model.calls, model.rows)


def aggregate(local: np.ndarray, agg_method: str) -> np.ndarray:
    """Global SHAP values (features x outputs) from local ones (records x features x outputs)."""
    if agg_method == "mean_abs":
        return np.abs(local).mean(axis=0)
    if agg_method == "median":
        return np.median(local, axis=0)
    if agg_method == "mean_sq":
        return np.square(local).mean(axis=0)
    raise ValueError(f"agg_method must be one of {', '.join(AGG_METHODS)}, not {agg_method!r}")


def _checked_inputs(records: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        records = np.asarray(records, dtype=float)
        background = np.asarray(background, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ExplainInputError(f"records and baseline must be numeric: {exc}") from exc
    if records.ndim != 2 or records.shape[0] == 0:
        raise ExplainInputError("there are no records to explain")
    if background.ndim != 2 or background.shape[0] == 0:
        raise ExplainInputError("the SHAP baseline has no rows")
    if records.shape[1] != background.shape[1]:
        raise ExplainInputError(
            f"the records have {records.shape[1]} features but the SHAP baseline rows have {background.shape[1]}")
    if records.shape[1] == 0:
        raise ExplainInputError("the records have no features")
    return records, background


class _Model:
    """`predict` with its answers checked, the link applied, and the calls counted."""

    def __init__(self, predict: Predict, use_logit: bool) -> None:
        self.predict, self.use_logit = predict, use_logit
        self.calls = self.rows = 0
        self.outputs: int | None = None

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.rows += rows.shape[0]
        scores = np.asarray(self.predict(rows), dtype=float)
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.ndim != 2 or scores.shape[0] != rows.shape[0]:
            answered = scores.shape[0] if scores.ndim else 1
            raise ExplainInputError(f"the model answered {answered} scores for {rows.shape[0]} rows")
        if self.outputs is not None and scores.shape[1] != self.outputs:
            raise ExplainInputError(f"the model answered {scores.shape[1]} scores per row, then {self.outputs}")
        self.outputs = scores.shape[1]
        if not np.isfinite(scores).all():
            raise ExplainInputError("the model answered a score that is not a finite number")
        if self.use_logit and ((scores < 0) | (scores > 1)).any():
            raise ExplainInputError("use_logit needs scores between 0 and 1; the model answered others")
        return scores

    def link(self, scores: np.ndarray) -> np.ndarray:
        if not self.use_logit:
            return scores
        p = np.clip(scores, LOGIT_EPSILON, 1 - LOGIT_EPSILON)
        return np.log(p / (1 - p))


def _explain_chunk(model: _Model, chunk: np.ndarray, background: np.ndarray, num_samples: int | None,
                   rngs: list[np.random.Generator], baseline_scores: np.ndarray | None,
                   ) -> tuple[np.ndarray, np.ndarray]:
    count, width = chunk.shape
    # players: features differing from some background row (shap's test: np.allclose)
    same = np.isclose(chunk[:, None, :], background[None, :, :], rtol=1e-5, atol=1e-8, equal_nan=True)
    varying = ~same.all(axis=1)
    masks, weights, owner = _chunk_coalitions(varying, num_samples, rngs)
    lead = [chunk] if baseline_scores is not None else [background, chunk]
    head = sum(part.shape[0] for part in lead)
    rows = np.empty((head + masks.shape[0] * background.shape[0], width))
    np.concatenate(lead, out=rows[:head])
    synthetic = rows[head:].reshape(masks.shape[0], background.shape[0], width)
    for start in range(0, masks.shape[0], 65536):  # in slices that stay in cache
        part = slice(start, start + 65536)
        synthetic[part] = background[None, :, :]
        np.copyto(synthetic[part], chunk[owner[part]][:, None, :], where=masks[part, None, :])
    scores = model(rows)
    if baseline_scores is None:
        baseline_scores, scores = scores[:background.shape[0]], scores[background.shape[0]:]
    null = model.link(baseline_scores.mean(axis=0))
    fx = model.link(scores[:count])
    values = model.link(scores[count:].reshape(masks.shape[0], background.shape[0], scores.shape[1]).mean(axis=1))
    return _solve(masks, weights, owner, values - null, fx - null, varying), baseline_scores


def _chunk_coalitions(varying: np.ndarray, num_samples: int | None, rngs: list[np.random.Generator],
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All records' coalitions stacked (over all features; a non-player is never in one), their kernel
    weights, and the record each belongs to."""
    players = varying.sum(axis=1)
    blocks, block_weights, owners = [], [], []
    for index, rng in enumerate(rngs):  # per record: its own generator, so chunking does not change results
        local, local_weights = coalitions(int(players[index]), num_samples, rng)
        full = np.zeros((local.shape[0], varying.shape[1]), dtype=bool)
        full[:, varying[index]] = local
        blocks.append(full)
        block_weights.append(local_weights)
        owners.append(np.full(local.shape[0], index))
    return np.concatenate(blocks), np.concatenate(block_weights), np.concatenate(owners)


def _solve(masks: np.ndarray, weights: np.ndarray, owner: np.ndarray, values: np.ndarray, total: np.ndarray,
           varying: np.ndarray) -> np.ndarray:
    """φ (records x features x outputs) from each record's coalitions, one KKT system per record:
    [[ZᵀWZ, 1], [1ᵀ, 0]] [φ; λ] = [ZᵀW v; f(x) - v(∅)], non-players' rows replaced by φ_i = 0."""
    count, width = varying.shape
    outputs = values.shape[1]
    gram, projected = _normal_equations(masks, weights, owner, values, count)
    system = np.zeros((count, width + 1, width + 1))
    system[:, :width, :width] = gram
    rhs = np.zeros((count, width + 1, outputs))
    rhs[:, :width] = projected
    rhs[:, width] = total
    pinned = ~varying
    system[:, :width, :width] *= varying[:, :, None] & varying[:, None, :]
    record, feature = np.nonzero(pinned)
    system[record, feature, feature] = 1.0
    system[:, :width, width] = varying
    system[:, width, :width] = varying
    nobody = ~varying.any(axis=1)  # no player: every φ is 0 and λ is free
    system[nobody, width, width] = 1.0
    rhs[nobody, width] = 0.0
    rhs[:, :width] *= varying[:, :, None]
    # fewer coalitions than players - 1 cannot determine φ: the least-norm solution (pseudo-inverse) for those
    # records, and for all when a system turns out singular (shap falls back to least squares likewise)
    short = np.bincount(owner, minlength=count) < varying.sum(axis=1) - 1
    solution = np.empty_like(rhs)
    try:
        solution[~short] = np.linalg.solve(system[~short], rhs[~short])
    except np.linalg.LinAlgError:
        short[:] = True
    solution[short] = np.linalg.pinv(system[short]) @ rhs[short]
    return solution[:, :width]


def _normal_equations(masks: np.ndarray, weights: np.ndarray, owner: np.ndarray, values: np.ndarray,
                      count: int, block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """ZᵀWZ and ZᵀWv of every record (its coalitions are contiguous rows), `block` records at a time so
    the float copies stay small; a record with fewer coalitions is padded with weight 0."""
    width, outputs = masks.shape[1], values.shape[1]
    sizes = np.bincount(owner, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    gram = np.empty((count, width, width))
    projected = np.empty((count, width, outputs))
    for first in range(0, count, block):
        last = min(first + block, count)
        rows = slice(starts[first], starts[last])
        local = sizes[first:last]
        longest = int(local.max())
        z = masks[rows].astype(float)
        if (local == longest).all():
            z = z.reshape(last - first, longest, width)
            w = weights[rows].reshape(last - first, longest, 1)
            v = values[rows].reshape(last - first, longest, outputs)
        else:
            position = np.arange(rows.stop - rows.start) - np.repeat(starts[first:last] - starts[first], local)
            record = owner[rows] - first
            padded = np.zeros((last - first, longest, width))
            padded[record, position] = z
            z = padded
            w = np.zeros((last - first, longest, 1))
            w[record, position, 0] = weights[rows]
            v = np.zeros((last - first, longest, outputs))
            v[record, position] = values[rows]
        wz = (z * w).transpose(0, 2, 1)
        gram[first:last] = wz @ z
        projected[first:last] = wz @ v
    return gram, projected

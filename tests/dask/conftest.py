"""A real dask.distributed LocalCluster of two worker processes, shared by the tests of this folder, and the
data they analyse: written here with numpy, never by the code under test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="the dask extra (make test installs it)")


@pytest.fixture(scope="session")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as local:
        yield local


@pytest.fixture(scope="session")
def client(cluster) -> Iterator[object]:
    with distributed.Client(cluster, set_as_default=False) as connected:
        yield connected


def table(rows: int, seed: int, *, shift: float = 0.0) -> dict[str, np.ndarray]:
    """Columns of a dataset: integers, eighths (exact float sums), two-decimal prices (inexact sums), a
    category, integers with ~2% words, a mostly-missing column."""
    rng = np.random.default_rng(seed)
    words = rng.random(rows) < 0.02
    return {
        "count": rng.integers(0, 1000, rows).astype(str),
        "eighths": (rng.integers(-400, 400, rows) / 8 + shift).astype(str),
        "price": np.char.mod("%.2f", rng.normal(50 + shift * 10, 12, rows)),
        "kind": rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]),
        "score": np.where(words, "n/a", rng.integers(0, 10, rows).astype(str)),
        "sparse": np.where(rng.random(rows) < 0.9, "", rng.integers(0, 5, rows).astype(str)),
    }


def write_csv(path: Path, columns: dict[str, np.ndarray], *, header: bool = True, short_every: int = 0) -> Path:
    """A CSV file; every `short_every`-th row is cut to two fields (a bad row of the wrong width)."""
    names = list(columns)
    lines = [",".join(names)] if header else []
    for i, row in enumerate(zip(*columns.values(), strict=True)):
        lines.append(",".join(row[:2]) if short_every and i % short_every == short_every - 1 else ",".join(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path

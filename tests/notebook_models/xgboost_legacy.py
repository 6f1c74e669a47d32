"""XGBoost 0.90 models without the `xgboost` package: the legacy binary format, read and evaluated with numpy.

SageMaker's XGBoost 0.90-1 container saves the model as a pickle of `xgboost.core.Booster`, whose state holds the
legacy binary model under `handle`. xgboost ≥ 3 can no longer read that format (checked: 3.2.0 refuses it; the
2.x line still loads it), so we read it ourselves. The layout (xgboost 0.90, `learner.cc`, `gbtree_model.h`,
`tree_model.h`), all little-endian:

    LearnerModelParam   float base_score (already a margin), uint num_feature, int num_class,
                        int contain_extra_attrs, int contain_eval_metrics, int reserved[29]      136 bytes
    string name_obj, string name_gbm                                   (uint64 length + bytes each)
    GBTreeModelParam    int num_trees, num_roots, num_feature, pad; int64 num_pbuffer;
                        int num_output_group, size_leaf_vector, reserved[32]                     160 bytes
    each tree:          TreeParam int num_roots, num_nodes, num_deleted, max_depth, num_feature,
                        size_leaf_vector, reserved[31] (148 bytes); num_nodes * Node (int parent, cleft,
                        cright; uint sindex, top bit = default left; float leaf value or split condition);
                        num_nodes * RTreeNodeStat (16 bytes, unused here)
    int tree_info[num_trees]                                           (no length prefix)

Prediction is xgboost's: the margin starts at base_score and adds each tree's leaf in float32, tree by tree; a
row goes left when its value < split condition, and a missing value (NaN) takes the default branch.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.notebook_models.float32 import sigmoid32

LEARNER_PARAM = struct.Struct("<fIiii29i")
GBTREE_PARAM = struct.Struct("<4iq2i32i")
TREE_PARAM = struct.Struct("<6i31i")
NODE = np.dtype([("parent", "<i4"), ("left", "<i4"), ("right", "<i4"), ("sindex", "<u4"), ("value", "<f4")])
NODE_STAT_BYTES = 16


class ModelFormatError(ValueError):
    """The file is not an XGBoost model this reader understands."""


@dataclass(frozen=True)
class Forest:
    """All trees' nodes in flat arrays; `roots[t]` is tree t's first node."""

    objective: str
    num_feature: int
    base_margin: np.float32
    roots: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    feature_names: tuple[str, ...] | None = None

    @property
    def num_trees(self) -> int:
        return int(self.roots.size)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise ModelFormatError(f"model truncated at byte {self.offset} (wanted {size} more)")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, layout: struct.Struct) -> tuple:
        return layout.unpack(self.take(layout.size))

    def string(self) -> str:
        (length,) = struct.unpack("<Q", self.take(8))
        return self.take(length).decode("utf-8")


def read_legacy_binary(raw: bytes, feature_names: tuple[str, ...] | None = None) -> Forest:
    """Parse xgboost's pre-1.0 binary model (the bytes `Booster.save_raw()` gave in 0.90)."""
    if raw[:4] == b"binf":  # written by `save_model` to a file: a 4-byte header first
        raw = raw[4:]
    reader = _Reader(raw)
    base_score, num_feature, _num_class, _extra_attrs, _eval_metrics, *_ = reader.unpack(LEARNER_PARAM)
    objective, booster = reader.string(), reader.string()
    if booster != "gbtree":
        raise ModelFormatError(f"booster {booster!r} is not supported (only gbtree)")
    num_trees, _num_roots, _num_feature, _pad, _pbuffer, output_groups, leaf_vector, *_ = reader.unpack(GBTREE_PARAM)
    if output_groups != 1 or leaf_vector != 0:
        raise ModelFormatError(f"{output_groups} output groups / leaf vectors of {leaf_vector} are not supported")
    nodes = []
    for _ in range(num_trees):
        tree_roots, num_nodes, *_ = reader.unpack(TREE_PARAM)
        if tree_roots != 1:
            raise ModelFormatError(f"a tree with {tree_roots} roots is not supported")
        nodes.append(np.frombuffer(reader.take(num_nodes * NODE.itemsize), dtype=NODE))
        reader.take(num_nodes * NODE_STAT_BYTES)
    reader.take(4 * num_trees)  # tree_info: every tree belongs to output group 0 here
    sizes = np.array([len(tree) for tree in nodes], dtype=np.int64)
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    flat = np.concatenate(nodes)
    shift = np.repeat(roots, sizes)  # child indices are per tree: make them global
    leaf = flat["left"] == -1
    left = np.where(leaf, -1, flat["left"] + shift)
    right = np.where(leaf, -1, flat["right"] + shift)
    return Forest(
        objective=objective,
        num_feature=int(num_feature),
        base_margin=np.float32(base_score),
        roots=roots,
        left=left,
        right=right,
        feature=(flat["sindex"] & 0x7FFFFFFF).astype(np.int64),
        threshold=flat["value"].astype(np.float32),
        default_left=(flat["sindex"] >> 31).astype(bool),
        feature_names=feature_names,
    )


class _BoosterState:
    """Receives the pickled Booster's state instead of xgboost's class."""

    state: dict

    def __setstate__(self, state: dict) -> None:
        self.state = state


class _BoosterUnpickler(pickle.Unpickler):
    """Only the two classes a pickled 0.90 Booster names; anything else is refused (no code from the file)."""

    def find_class(self, module: str, name: str) -> type:
        if (module, name) == ("xgboost.core", "Booster"):
            return _BoosterState
        if (module, name) == ("builtins", "bytearray"):
            return bytearray
        raise ModelFormatError(f"unexpected class {module}.{name} in the pickled model")


@dataclass(frozen=True)
class PickledBooster:
    forest: Forest
    ntree_limit: int


def load_model_bytes(data: bytes) -> PickledBooster:
    """A model file as the 0.90-1 container reads it: a pickled Booster first, else the raw binary format."""
    if data[:1] == b"\x80":
        try:
            booster = _BoosterUnpickler(io.BytesIO(data)).load()
        except (pickle.UnpicklingError, EOFError) as exc:
            raise ModelFormatError(f"not a pickled Booster: {exc}") from exc
        if not isinstance(booster, _BoosterState) or "handle" not in booster.state:
            raise ModelFormatError("the pickle holds no Booster state with a model handle")
        names = booster.state.get("feature_names")
        forest = read_legacy_binary(bytes(booster.state["handle"]), tuple(names) if names else None)
        # The container predicts with ntree_limit=best_ntree_limit (0 = all trees).
        return PickledBooster(forest, int(booster.state.get("best_ntree_limit") or 0))
    return PickledBooster(read_legacy_binary(data), 0)


def predict_margin(forest: Forest, rows: np.ndarray, ntree_limit: int = 0) -> np.ndarray:
    """Sum of leaves in float32, tree by tree from base_score, as xgboost's CPU predictor adds them."""
    rows = np.asarray(rows, dtype=np.float32)
    width = max(forest.num_feature, rows.shape[1])
    if rows.shape[1] < width:  # columns the request lacks are missing values, as in a narrower DMatrix
        rows = np.hstack([rows, np.full((rows.shape[0], width - rows.shape[1]), np.nan, dtype=np.float32)])
    trees = forest.roots if ntree_limit <= 0 else forest.roots[:ntree_limit]
    margin = np.full(rows.shape[0], forest.base_margin, dtype=np.float32)
    row_index = np.arange(rows.shape[0])
    for root in trees:
        node = np.full(rows.shape[0], root, dtype=np.int64)
        active = forest.left[node] != -1
        while active.any():
            at = node[active]
            values = rows[row_index[active], forest.feature[at]]
            go_left = np.where(np.isnan(values), forest.default_left[at], values < forest.threshold[at])
            node[active] = np.where(go_left, forest.left[at], forest.right[at])
            active = forest.left[node] != -1
        margin = (margin + forest.threshold[node]).astype(np.float32)  # a leaf's value sits where splits keep theirs
    return margin


def predict(booster: PickledBooster, rows: np.ndarray) -> np.ndarray:
    """What `Booster.predict` returns: probabilities for binary:logistic, the margin for reg:linear."""
    margin = predict_margin(booster.forest, rows, booster.ntree_limit)
    objective = booster.forest.objective
    if objective in ("binary:logistic", "reg:logistic"):
        return sigmoid32(margin)
    if objective in ("reg:linear", "reg:squarederror", "binary:logitraw"):
        return margin
    raise ModelFormatError(f"objective {objective!r} is not supported")


def load(tarball: Path) -> PickledBooster:
    """The model of the container's `model.tar.gz`: its one file (the container loads the first it lists)."""
    with tarfile.open(tarball) as archive:
        files = [member for member in archive.getmembers() if member.isfile()]
        if len(files) != 1:
            raise ModelFormatError(f"{tarball} holds {len(files)} files, expected the one model file")
        member = archive.extractfile(files[0])
        assert member is not None  # a regular file always has a reader
        return load_model_bytes(member.read())

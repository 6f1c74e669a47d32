"""The linear-learner container's /invocations: request and response formats as AWS's recorded answers show.

Recorded by the notebooks (tests/fixtures/notebooks/linear-learner-recorded-outputs/):
- `application/json` answers `{"predictions": [{"score": 0.9899773597717285, "predicted_label": 1}]}`: Python's
  json.dumps spacing, the float32 score widened to double and printed shortest (repr).
- `application/jsonlines` answers `{"predicted_label":1,"score":0.989977359771728}` and a newline per record:
  compact, label first, the score cut (not rounded) to 15 decimals — 0.98997735977172851… prints …728.
Requests: JSON Lines `{"features": [...]}` per line, JSON `{"instances": [{"features": [...]}, ...]}` (or the
common format's `{"data": {"features": {"values": [...]}}}` per instance), CSV rows of numbers. No Accept (or
*/*) means JSON. What the real container says on a bad request is not recorded; ours is 400/406/415 with a message.
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, Decimal

import numpy as np

from tests.notebook_models.linear_learner import LinearLearner
from tests.notebook_models.wire import Answer, media_type

JSON = "application/json"
JSONLINES = "application/jsonlines"
CSV = "text/csv"
FIFTEEN_DECIMALS = Decimal("1e-15")


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _features(record: object, where: str) -> list:
    if isinstance(record, dict) and "features" in record:
        return record["features"]
    if isinstance(record, dict) and isinstance(record.get("data"), dict):
        features = record["data"].get("features")
        if isinstance(features, dict) and "values" in features:
            return features["values"]
    raise BadRequest(f"{where}: expected an object with 'features' (a list of numbers)")


def _matrix(rows: list, width: int) -> np.ndarray:
    if not rows:
        raise BadRequest("the request holds no records")
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise BadRequest(f"record {index} has {size} features; the model takes {width}")
    try:
        # float64 first, then float32: a decimal string rounds as the container's parser (via double) rounds it
        return np.asarray(rows, dtype=np.float64).astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"features must be numbers: {exc}") from exc


def parse_records(body: bytes, content_type: str, width: int) -> np.ndarray:
    try:
        text = body.decode("utf-8")
        if content_type == JSONLINES:
            lines = [line for line in text.splitlines() if line.strip()]
            return _matrix([_features(json.loads(line), f"line {n + 1}") for n, line in enumerate(lines)], width)
        if content_type == JSON:
            document = json.loads(text)
            instances = document.get("instances") if isinstance(document, dict) else None
            if not isinstance(instances, list):
                raise BadRequest("expected {\"instances\": [{\"features\": [...]}, ...]}")
            return _matrix([_features(item, f"instance {n}") for n, item in enumerate(instances)], width)
        if content_type == CSV:
            rows = [line.split(",") for line in text.strip().splitlines() if line.strip()]
            return _matrix(rows, width)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid {content_type}: {exc}") from exc
    raise BadRequest(f"content type {content_type!r} is not supported (use {JSONLINES}, {JSON} or {CSV})", 415)


def _truncated(score: np.float32) -> str:
    text = format(Decimal(float(score)).quantize(FIFTEEN_DECIMALS, rounding=ROUND_DOWN), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def render(scores: np.ndarray, labels: np.ndarray, accept: str) -> Answer:
    if accept == JSON:
        pairs = zip(scores.tolist(), labels.tolist(), strict=True)
        predictions = [{"score": score, "predicted_label": label} for score, label in pairs]
        return Answer(200, json.dumps({"predictions": predictions}).encode(), JSON)
    lines = "".join(
        f'{{"predicted_label":{int(label)},"score":{_truncated(s)}}}\n'
        for s, label in zip(scores, labels, strict=True)
    )
    return Answer(200, lines.encode(), JSONLINES)


def choose_accept(header: str | None) -> str:
    for candidate in (header or "").split(","):
        kind = media_type(candidate)
        if kind in ("", "*/*", "application/*"):
            return JSON
        if kind in (JSON, JSONLINES):
            return kind
    raise BadRequest(f"accept type {header!r} is not supported (use {JSON} or {JSONLINES})", 406)


class LinearLearnerContainer:
    def __init__(self, model: LinearLearner) -> None:
        self.model = model

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> Answer:
        try:
            kind = choose_accept(accept)
            rows = parse_records(body, media_type(content_type), self.model.num_features)
        except BadRequest as exc:
            return Answer(exc.status, str(exc).encode(), "text/plain")
        scores, labels = self.model.predict(rows)
        return render(scores, labels, kind)

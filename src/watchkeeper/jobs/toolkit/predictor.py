"""Calling the model for a Clarify job, as Clarify calls its shadow endpoint (spec §10.1, §11).

The runner resolves the analysis config's `predictor.model_name` (or the monitored endpoint) to the model's
server (WATCHKEEPER_UPSTREAM_URL, checked when the model was created) and writes it to the job's
`/opt/ml/config/predictor.json`; this client sends the records there in batches: at most `max_rows` records and
`max_bytes` bytes per request (SageMaker's 6 MB payload limit), a few requests at a time, each answer read up to
the same limit. Request bodies follow `content_type` and the templates (`$features`, `$features_kvp`,
`$records`); answers are read by `accept_type` with the `label` / `probability` JMESPaths or indexes.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jmespath
import numpy as np
import orjson
import polars as pl

from watchkeeper.jobs.toolkit.clarify_config import CSV, JSON, JSON_LINES, PredictorSpec
from watchkeeper.jobs.toolkit.clarify_values import csv_records, label_text
from watchkeeper.jobs.toolkit.summary import JobFailed
from watchkeeper.services.upstream import upstream_path

PAYLOAD_LIMIT = 6 * 1024 * 1024
RETRIES = 2
PREDICTOR_FILE = "/opt/ml/config/predictor.json"  # written by the runner (jobs/predictor_binding.py)
PREDICTOR_ENV = "WATCHKEEPER_PREDICTOR"  # another place for it (tests)


def predictor_file(environment: Mapping[str, str]) -> Path:
    """Where the runner left the model server this job may call."""
    if environment.get(PREDICTOR_ENV):
        return Path(environment[PREDICTOR_ENV])
    root = environment.get("WATCHKEEPER_JOB_ROOT")
    return Path(root) / PREDICTOR_FILE.lstrip("/") if root else Path(PREDICTOR_FILE)


@dataclass(frozen=True)
class ModelServer:
    url: str
    model_name: str
    timeout: float = 60.0

    @classmethod
    def load(cls, path: Path) -> ModelServer:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise JobFailed(f"ClientError: this job was given no model to call ({exc})") from None
        if not isinstance(value, dict) or not value.get("url"):
            reason = value.get("error") if isinstance(value, dict) else None
            raise JobFailed(f"ClientError: the job needs the model's predictions, but {reason or 'no model is known'}")
        return cls(str(value["url"]), str(value.get("model_name") or ""), float(value.get("timeout", 60.0)))


@dataclass
class Predictions:
    labels: list[Any] | None  # the predicted labels as the model answered them
    scores: np.ndarray | None  # rows x outputs


@dataclass
class CallCounter:
    calls: int = 0
    rows: int = 0
    seconds: float = 0.0
    retried: int = 0
    notes: list[str] = field(default_factory=list)


class ModelClient:
    def __init__(self, server: ModelServer, spec: PredictorSpec, feature_names: tuple[str, ...], *,
                 max_rows: int = 1000, max_bytes: int = 5 * 1024 * 1024, workers: int = 4) -> None:
        if spec.content_type == JSON_LINES and not spec.content_template:
            raise JobFailed("ClientError: predictor.content_template is required for application/jsonlines "
                            '(such as {"features":$features})')
        self.server = server
        self.spec = spec
        self.feature_names = feature_names
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.workers = workers
        self.counter = CallCounter()
        self._http = httpx.Client(timeout=server.timeout, follow_redirects=False)
        self._url = upstream_path(server.url, "/invocations")

    def close(self) -> None:
        self._http.close()

    # --- what the analyzers call -----------------------------------------------------------------

    def predict(self, features: pl.DataFrame) -> Predictions:
        """The model's answer for each row of `features` (the feature columns, in order)."""
        answers = self._call_all(features)
        labels: list[Any] | None = [] if self.spec.label is not None else None
        scores: list[np.ndarray] = []
        for sent, answer in answers:
            batch_labels, batch_scores = self._read_answer(answer, sent)
            if labels is not None:
                labels.extend(batch_labels or [])
            if batch_scores is not None:
                scores.append(batch_scores)
        stacked = np.vstack(scores) if scores and len(scores) == len(answers) else None
        return Predictions(labels, stacked)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Scores for a float matrix (SHAP's synthetic rows): rows x outputs."""
        frame = pl.DataFrame(rows, schema=list(self.feature_names), orient="row")
        predictions = self.predict(frame)
        if predictions.scores is None:
            raise JobFailed("ClientError: the model's answer has no score to explain: set the predictor's "
                            "'probability' (or 'label') to where the score is")
        return predictions.scores

    def predicted_labels(self, features: pl.DataFrame, threshold: float | None) -> pl.Series:
        """Predicted labels: the answer's label when `label` is set, else score > threshold (default 0.5) as 1/0."""
        predictions = self.predict(features)
        if predictions.labels is not None:
            return pl.Series("prediction", [label_text(v) for v in predictions.labels], dtype=pl.String)
        if predictions.scores is None or predictions.scores.shape[1] != 1:
            raise JobFailed("ClientError: the model answered several scores per record; set the predictor's "
                            "'label' or 'probability' to the one that is the prediction")
        cut = 0.5 if threshold is None else threshold
        return pl.Series("prediction", (predictions.scores[:, 0] > cut).astype(np.int64)).cast(pl.String)

    # --- requests --------------------------------------------------------------------------------

    def _batches(self, features: pl.DataFrame) -> Iterator[tuple[int, bytes]]:
        start = 0
        step = self.max_rows
        while start < features.height:
            chunk = features.slice(start, step)
            body = self._body(chunk)
            if len(body) > self.max_bytes and step > 1:
                step = max(1, step // 2)
                continue
            if len(body) > PAYLOAD_LIMIT:
                raise JobFailed(f"ClientError: one record is {len(body)} bytes in the model's request format, "
                                f"over SageMaker's {PAYLOAD_LIMIT // 1024 // 1024} MB limit")
            yield chunk.height, body
            start += chunk.height

    def _call_all(self, features: pl.DataFrame) -> list[tuple[int, bytes]]:
        batches = list(self._batches(features))
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            answers = list(pool.map(lambda batch: self._call(batch[1]), batches))
        self.counter.rows += features.height
        return [(rows, answer) for (rows, _), answer in zip(batches, answers, strict=True)]

    def _call(self, body: bytes) -> bytes:
        headers = {"Content-Type": self.spec.content_type, "Accept": self.spec.accept_type}
        started = time.monotonic()
        for attempt in range(RETRIES + 1):
            try:
                with self._http.stream("POST", self._url, content=body, headers=headers) as response:
                    data = _bounded_body(response)
                    status = response.status_code
            except httpx.HTTPError as exc:
                if attempt < RETRIES:
                    self.counter.retried += 1
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise JobFailed(f"ClientError: the model server of {self.server.model_name or 'the model'} "
                                f"could not be reached: {type(exc).__name__}: {exc}") from None
            if status >= 500 and attempt < RETRIES:
                self.counter.retried += 1
                time.sleep(0.2 * (attempt + 1))
                continue
            break
        self.counter.calls += 1
        self.counter.seconds += time.monotonic() - started
        if status != 200:
            text = data[:300].decode("utf-8", errors="replace")
            raise JobFailed(f"ClientError: the model answered HTTP {status}: {text}")
        return data

    def _body(self, chunk: pl.DataFrame) -> bytes:
        kind = self.spec.content_type.split(";")[0].strip()
        if kind == CSV:
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=False)
            return buffer.getvalue()
        rows = chunk.rows()
        names = chunk.columns
        if kind == JSON_LINES:
            template = self.spec.content_template or "$features"
            return b"\n".join(_fill(template, row, names).encode() for row in rows)
        if kind == JSON:
            record = self.spec.record_template or "$features"
            records = "[" + ",".join(_fill(record, row, names) for row in rows) + "]"
            template = self.spec.content_template or "$records"
            if "$records" in template:
                return template.replace("$records", records).encode()
            if len(rows) == 1:
                return _fill(template, rows[0], names).encode()
            return records.encode()
        raise JobFailed(f"ClientError: predictor content_type {self.spec.content_type!r} is not supported "
                        "(text/csv, application/jsonlines, application/json)")

    # --- answers ---------------------------------------------------------------------------------

    def _read_answer(self, data: bytes, rows: int) -> tuple[list[Any] | None, np.ndarray | None]:
        kind = self.spec.accept_type.split(";")[0].strip()
        try:
            if kind == CSV:
                values = _csv_answer(data, rows)
                records: list[Any] = values
            elif kind == JSON_LINES:
                records = [orjson.loads(line) for line in data.splitlines() if line.strip()]
            else:
                document = orjson.loads(data)
                records = _json_records(document, self.spec, rows)
                if records is None:
                    return self._from_document(document, rows)
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise JobFailed(f"ClientError: the model's answer is not {kind} ({exc}): "
                            f"{data[:200].decode('utf-8', errors='replace')!r}") from None
        if len(records) != rows:
            raise JobFailed(f"ClientError: the model answered {len(records)} predictions for {rows} records")
        labels = [_select(r, self.spec.label) for r in records] if self.spec.label is not None else None
        score_path = self.spec.probability if self.spec.probability is not None else self.spec.label
        scores = _score_matrix([_select(r, score_path) if score_path is not None else r for r in records])
        return labels, scores

    def _from_document(self, document: Any, rows: int) -> tuple[list[Any] | None, np.ndarray | None]:
        """An application/json answer whose label/probability JMESPaths select one value per record."""
        labels = jmespath.search(str(self.spec.label), document) if self.spec.label is not None else None
        path = self.spec.probability if self.spec.probability is not None else self.spec.label
        scores_raw = jmespath.search(str(path), document) if path is not None else None
        for found, what in ((labels, "label"), (scores_raw, "probability")):
            if found is not None and (not isinstance(found, list) or len(found) != rows):
                raise JobFailed(f"ClientError: the predictor's {what} path selects "
                                f"{len(found) if isinstance(found, list) else 'no list'} values for {rows} records")
        return labels, _score_matrix(scores_raw) if scores_raw is not None else None


def _bounded_body(response: httpx.Response) -> bytes:
    if 300 <= response.status_code < 400:
        raise JobFailed(f"ClientError: the model server answered a redirect ({response.status_code}); "
                        "Watchkeeper does not follow it")
    parts: list[bytes] = []
    size = 0
    for part in response.iter_bytes():
        size += len(part)
        if size > PAYLOAD_LIMIT:
            raise JobFailed(f"ClientError: the model's answer is over SageMaker's "
                            f"{PAYLOAD_LIMIT // 1024 // 1024} MB limit")
        parts.append(part)
    return b"".join(parts)


def _fill(template: str, row: tuple[Any, ...], names: list[str]) -> str:
    values = [_json_number(v) for v in row]
    text = template.replace("$features_kvp", orjson.dumps(dict(zip(names, values, strict=True))).decode())
    return text.replace("$features", orjson.dumps(values).decode())


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _csv_answer(data: bytes, rows: int) -> list[Any]:
    return [line.split(",") for line in csv_records(data.decode("utf-8"), rows)]


def _json_records(document: Any, spec: PredictorSpec, rows: int) -> list[Any] | None:
    """A JSON answer that is itself one item per record; None when the paths address the whole document."""
    if isinstance(document, list) and len(document) == rows:
        return document
    if isinstance(document, dict) and isinstance(document.get("predictions"), list) and (
        spec.label is None or "[" not in str(spec.label)) and (spec.probability is None or "[" not in str(
            spec.probability)):
        return document["predictions"]
    return None


def _select(record: Any, path: str | int | None) -> Any:
    if path is None:
        return record
    if isinstance(record, list):
        try:
            return record[int(path)]
        except (ValueError, IndexError):
            return None
    if isinstance(record, dict):
        return jmespath.search(str(path), record)
    return record if str(path) in ("0", "") else None


def _score_matrix(values: list[Any]) -> np.ndarray | None:
    try:
        rows = [v if isinstance(v, list) else [v] for v in values]
        matrix = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):
        return None
    if matrix.ndim != 2 or not np.all(np.isfinite(matrix)):
        return None
    return matrix

"""The XGBoost 0.90-1 container's /invocations in algorithm mode, after its source (aws/sagemaker-xgboost-container,
branch 0.90-1, `algorithm_mode/serve.py` and `encoder.py`):

- an empty body answers 204 with no body;
- `text/csv` (parameters allowed): the body stripped, the delimiter sniffed from the first line (`,` when the
  sniffer finds a letter or digit), rows split on `\\n`, empty cells are missing values, parsed as double then
  float32. A parse failure answers 415 "Loading csv data failed with Exception, please ensure data is in csv
  format: ...". Other content types answer 415 too (the real one also takes libsvm and recordio-protobuf: not here);
- the row width must equal the model's feature count, or be one less (the label-less extra column convention);
  otherwise 400 "Unable to evaluate payload provided: Feature size of csv inference data ...";
- the answer ignores Accept: `text/csv`, the scores as Python prints floats, joined with "," on a real-time
  endpoint and with "\\n" plus a final newline under batch transform (SAGEMAKER_BATCH).
"""

from __future__ import annotations

import csv

import numpy as np

from tests.notebook_models.wire import Answer, media_type
from tests.notebook_models.xgboost_legacy import PickledBooster, predict

CSV_TYPES = ("text/csv", "csv")


def _parse_csv(body: bytes) -> np.ndarray:
    text = body.strip().decode("utf-8")
    sniffed = csv.Sniffer().sniff(text.split("\n")[0][:512]).delimiter
    delimiter = "," if sniffed.isalnum() else sniffed
    rows = [["nan" if cell == "" else cell for cell in line.split(delimiter)] for line in text.split("\n")]
    return np.array(rows).astype(np.float64).astype(np.float32)


class XGBoostContainer:
    def __init__(self, booster: PickledBooster, batch: bool = False) -> None:
        self.booster = booster
        self.batch = batch

    @property
    def num_features(self) -> int:
        names = self.booster.forest.feature_names
        return len(names) if names else self.booster.forest.num_feature

    def invoke(self, body: bytes, content_type: str | None, accept: str | None = None) -> Answer:
        del accept  # the 0.90-1 container answers text/csv whatever was asked
        if not body:
            return Answer(204, b"", "text/csv")
        if media_type(content_type) not in CSV_TYPES:
            return Answer(415, f"Content-type {content_type} is not supported.".encode(), "text/plain")
        try:
            rows = _parse_csv(body)
        except (ValueError, csv.Error, UnicodeDecodeError) as exc:
            message = (
                "Loading csv data failed with Exception, please ensure data is in csv format:\n"
                f" {type(exc)}\n {exc}"
            )
            return Answer(415, message.encode(), "text/plain")
        expected, given = self.num_features, rows.shape[1] if rows.ndim == 2 else 0
        if rows.ndim != 2 or given not in (expected, expected - 1):
            message = (
                "Unable to evaluate payload provided: Feature size of csv inference data "
                f"{given} is not consistent with feature size of trained model {expected}."
            )
            return Answer(400, message.encode(), "text/plain")
        scores = [str(value) for value in predict(self.booster, rows).tolist()]
        text = "\n".join(scores) + "\n" if self.batch else ",".join(scores)
        return Answer(200, text.encode(), "text/csv")

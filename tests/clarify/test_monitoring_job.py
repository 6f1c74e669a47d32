"""The Clarify monitoring job on records as the capture and the merge job write them: bias against a baseline
analysis.json (violations only when a metric gets worse), SHAP drift, and the inputs that fail it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.clarify.jobs import CLARIFY_IMAGE, message
from tests.model_server import predict
from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.summary import JobFailed

HEADERS = ["age", "debt", "income", "years"]
START, END = "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z"


def _record(features: list[float], score: float, label: int | None, index: int) -> dict:
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "encoding": "CSV",
                              "data": ",".join(str(v) for v in features)},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "encoding": "CSV",
                               "data": f"{score}"},
        },
        "eventMetadata": {"eventId": f"e{index}", "inferenceId": str(index),
                          "inferenceTime": f"2026-11-30T10:{index % 60:02d}:00Z"},
        "eventVersion": "0",
    }
    if label is not None:
        record["groundTruthData"] = {"data": str(label), "encoding": "CSV"}
    return record


def _job(root: Path, records: list[dict], config: dict, *, kind: str, baseline: dict | None = None,
         model_url: str | None = None) -> tuple[object, Path]:
    data = root / "opt/ml/processing/input_data/ep/AllTraffic/2026/11/30/10"
    data.mkdir(parents=True)
    (data / "records.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    config_dir = root / "opt/ml/processing/input/config"
    config_dir.mkdir(parents=True)
    (config_dir / "analysis_config.json").write_text(json.dumps(config))
    output = root / "opt/ml/processing/resultdata"
    environment = {
        "WATCHKEEPER_JOB_ROOT": str(root), "analysis_type": kind,
        "analysis_config": str(config_dir), "dataset_source": str(root / "opt/ml/processing/input_data"),
        "dataset_format": json.dumps({"sagemakerMergeJson" if kind == "MODEL_BIAS" else "sagemakerCaptureJson": {
            "captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        "output_path": str(output), "start_time": START, "end_time": END, "metric_time": START,
        "publish_cloudwatch_metrics": "Enabled", "sagemaker_endpoint_name": "ep",
        "sagemaker_monitoring_schedule_name": "sched",
        "CLOUDWATCH_METRICS_DIRECTORY": str(root / "opt/ml/output/metrics/cloudwatch"),
        "probability_threshold_attribute": "0.5",
    }
    if baseline is not None:
        (root / "baseline.json").write_text(json.dumps(baseline))
        environment["baseline_constraints"] = str(root / "baseline.json")
    predictor = root / "opt/ml/config/predictor.json"
    predictor.parent.mkdir(parents=True)
    predictor.write_text(json.dumps({"url": model_url, "model_name": "m"} if model_url else {"error": "none"}))
    (root / "opt/ml/output").mkdir(parents=True, exist_ok=True)
    summary = run_environment(environment, image_uri=CLARIFY_IMAGE, log=JobLog(),
                              message_file=root / "opt/ml/output/message")
    return summary, output


def _traffic(rng: np.random.Generator, n: int, shift: float = 0.0) -> list[dict]:
    rows = np.column_stack([rng.integers(18, 80, n), rng.integers(0, 3, n), rng.integers(0, 300, n),
                            rng.integers(0, 30, n)]).astype(float)
    scores = predict(rows)
    favoured = rows[:, 1] != 0
    labels = (rng.random(n) < np.where(favoured, 0.5 + shift, 0.5 - shift)).astype(int)
    return [_record(row.tolist(), float(s), int(y), i) for i, (row, s, y) in enumerate(zip(rows, scores, labels,
                                                                                           strict=True))]


BIAS_CONFIG = {"headers": [*HEADERS, "approved"], "label": "approved", "label_values_or_threshold": [1],
               "facet": [{"name_or_index": "debt", "value_or_threshold": [0]}], "group_variable": "years"}


def test_bias_of_merged_records_against_its_own_baseline_has_no_violations(tmp_path: Path) -> None:
    records = _traffic(np.random.default_rng(1), 300)
    summary, output = _job(tmp_path / "a", records, BIAS_CONFIG, kind="MODEL_BIAS")
    analysis = json.loads((output / "analysis.json").read_text())
    assert summary.status == "Completed"
    _, output = _job(tmp_path / "b", records, BIAS_CONFIG, kind="MODEL_BIAS", baseline=analysis)
    assert not (output / "constraint_violations.json").exists()
    lines = (tmp_path / "b/opt/ml/output/metrics/cloudwatch/bias-metrics.jsonl").read_text().splitlines()
    names = {json.loads(line)["MetricName"] for line in lines}
    assert {"bias_metric_CI", "bias_metric_DPPL", "bias_metric_CDDPL"} <= names


def test_a_worse_window_violates_the_baseline_as_aws_words_it(tmp_path: Path) -> None:
    baseline_records = _traffic(np.random.default_rng(2), 400)
    _, output = _job(tmp_path / "base", baseline_records, BIAS_CONFIG, kind="MODEL_BIAS")
    baseline = json.loads((output / "analysis.json").read_text())
    worse = _traffic(np.random.default_rng(3), 400, shift=0.4)
    summary, output = _job(tmp_path / "now", worse, BIAS_CONFIG, kind="MODEL_BIAS", baseline=baseline)
    assert summary.status == "CompletedWithViolations"
    violations = json.loads((output / "constraint_violations.json").read_text())["violations"]
    assert violations
    for violation in violations:
        assert list(violation) == ["constraint_check_type", "description", "facet", "facet_value", "metric_name"]
        assert violation["constraint_check_type"] == "bias_drift_check"
        assert violation["description"].startswith("Metric value ")


def test_records_without_ground_truth_or_outside_the_window_are_left_out(tmp_path: Path) -> None:
    records = _traffic(np.random.default_rng(4), 50)
    records[0].pop("groundTruthData")
    records[1]["eventMetadata"]["inferenceTime"] = "2026-11-30T12:00:00Z"
    summary, _ = _job(tmp_path, records, BIAS_CONFIG, kind="MODEL_BIAS")
    assert summary.records == 48
    assert summary.result_document()["bad_records"] == {"ground truth is missing or unreadable": 1}


def test_an_empty_window_fails_naming_the_cause(tmp_path: Path) -> None:
    records = _traffic(np.random.default_rng(5), 5)
    for record in records:
        record["eventMetadata"]["inferenceTime"] = "2026-11-29T00:00:00Z"
    with pytest.raises(JobFailed):
        _job(tmp_path, records, BIAS_CONFIG, kind="MODEL_BIAS")
    assert "no merged records in the window" in message(tmp_path)


def test_a_facet_not_among_the_features_fails_naming_it(tmp_path: Path) -> None:
    config = {**BIAS_CONFIG, "facet": [{"name_or_index": "gender", "value_or_threshold": [0]}]}
    with pytest.raises(JobFailed):
        _job(tmp_path, _traffic(np.random.default_rng(6), 20), config, kind="MODEL_BIAS")
    assert "gender" in message(tmp_path)


EXPLAIN_CONFIG = {"headers": HEADERS, "methods": {"shap": {"baseline": [[40, 1, 150, 15]], "num_samples": 50,
                                                           "agg_method": "mean_abs", "seed": 1}},
                  "predictor": {"model_name": "m", "content_type": "text/csv", "accept_type": "text/csv"}}


def test_explainability_drift_against_a_baseline_with_another_ranking(tmp_path: Path, model_url: str) -> None:
    records = [{k: v for k, v in r.items() if k != "groundTruthData"} for r in _traffic(np.random.default_rng(7), 40)]
    summary, output = _job(tmp_path / "a", records, EXPLAIN_CONFIG, kind="MODEL_EXPLAINABILITY",
                           model_url=model_url)
    analysis = json.loads((output / "analysis.json").read_text())
    assert summary.status == "Completed"
    values = analysis["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    assert list(values) == HEADERS
    # Same ranking: no drift. Reversed ranking: nDCG well below 0.9.
    _, same = _job(tmp_path / "b", records, EXPLAIN_CONFIG, kind="MODEL_EXPLAINABILITY", baseline=analysis,
                   model_url=model_url)
    assert not (same / "constraint_violations.json").exists()
    order = sorted(values, key=values.get)
    reversed_baseline = json.loads(json.dumps(analysis))
    reversed_baseline["explanations"]["kernel_shap"]["label0"]["global_shap_values"] = {
        name: float(rank + 1) for rank, name in enumerate(order[::-1])}
    summary, worse = _job(tmp_path / "c", records, EXPLAIN_CONFIG, kind="MODEL_EXPLAINABILITY",
                          baseline=reversed_baseline, model_url=model_url)
    assert summary.status == "CompletedWithViolations"
    [violation] = json.loads((worse / "constraint_violations.json").read_text())["violations"]
    assert violation["constraint_check_type"] == "feature_attribution_drift_check"
    assert violation["description"].endswith("exceeds threshold 0.9")
    lines = (tmp_path / "c/opt/ml/output/metrics/cloudwatch/explainability-metrics.jsonl").read_text()
    assert "ExpectedValue" in lines and "feature_age" in lines


def test_a_predictor_that_answers_garbage_fails_the_job(tmp_path: Path, model_url: str) -> None:
    config = {**EXPLAIN_CONFIG, "predictor": {**EXPLAIN_CONFIG["predictor"], "accept_type": "application/json"}}
    records = [{k: v for k, v in r.items() if k != "groundTruthData"} for r in _traffic(np.random.default_rng(8), 5)]
    with pytest.raises(JobFailed):
        _job(tmp_path, records, config, kind="MODEL_EXPLAINABILITY", model_url=model_url)
    assert "model's answer" in message(tmp_path)


def test_records_past_the_bound_are_counted_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from watchkeeper.jobs.toolkit import clarify_records

    monkeypatch.setattr(clarify_records, "MAX_RECORDS", 30)
    summary, _ = _job(tmp_path, _traffic(np.random.default_rng(9), 50), BIAS_CONFIG, kind="MODEL_BIAS")
    assert summary.records == 30
    assert summary.result_document()["skipped_records"] == {"over the job's record bound": 20}

"""The model-quality job: datasets (CSV, JSON Lines, JSON, Parquet), merged capture + ground-truth records,
bad rows, failures, violations against a baseline, and the container Environment entry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn import metrics as skm

from watchkeeper.jobs.analyzers.model_quality import model_quality_job
from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.toolkit.summary import JobFailed

CSV_FORMAT = {"csv": {"header": True, "output_columns_position": "START"}}
MERGE_FORMAT = '{"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}'


def rows(n: int = 300, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.3).astype(int)
    probability = np.round(np.clip(rng.normal(0.3 + 0.4 * label, 0.2), 0, 1), 3)
    return pl.DataFrame({"probability": probability, "prediction": (probability >= 0.5).astype(int),
                         "label": label})


def read(out: Path, name: str = "statistics.json") -> dict:
    return json.loads((out / name).read_text())


def binary_values(out: Path) -> dict[str, float]:
    metrics = read(out)["binary_classification_metrics"]
    return {k: v["value"] for k, v in metrics.items() if isinstance(v, dict) and "value" in v}


def assert_binary_matches(out: Path, frame: pl.DataFrame) -> None:
    values = binary_values(out)
    label, prediction = frame["label"].to_numpy(), frame["prediction"].to_numpy()
    assert values["recall"] == pytest.approx(skm.recall_score(label, prediction))
    assert values["precision"] == pytest.approx(skm.precision_score(label, prediction))
    assert values["auc"] == pytest.approx(skm.roc_auc_score(label, frame["probability"].to_numpy()))
    assert read(out)["dataset"]["item_count"] == frame.height


def test_csv_by_name_and_by_index(tmp_path):
    frame = rows()
    frame.write_csv(tmp_path / "with-header.csv")
    frame.write_csv(tmp_path / "no-header.csv", include_header=False)
    model_quality_job(tmp_path / "with-header.csv", tmp_path / "a", CSV_FORMAT, problem_type="BinaryClassification",
                      inference_attribute="prediction", probability_attribute="probability",
                      ground_truth_attribute="label")
    model_quality_job(tmp_path / "no-header.csv", tmp_path / "b", {"csv": {"header": False}},
                      problem_type="BinaryClassification", inference_attribute="1", probability_attribute="0",
                      ground_truth_attribute="2")
    assert_binary_matches(tmp_path / "a", frame)
    assert read(tmp_path / "a") == read(tmp_path / "b")


def test_json_lines_with_paths_json_document_and_parquet(tmp_path):
    frame = rows(seed=1)
    records = [{"truth": {"label": r["label"]}, "out": {"scores": [1 - r["probability"], r["probability"]],
                                                        "label": r["prediction"]}} for r in frame.to_dicts()]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "data.json").write_text(json.dumps(records))
    frame.write_parquet(tmp_path / "data.parquet")
    common = {"problem_type": "BinaryClassification", "seed": 3}
    model_quality_job(tmp_path / "data.jsonl", tmp_path / "jsonl", {"json": {"lines": True}},
                      ground_truth_attribute="truth.label", inference_attribute="$.out.label",
                      probability_attribute="out.scores[1]", **common)
    model_quality_job(tmp_path / "data.json", tmp_path / "json", {"json": {"lines": False}},
                      ground_truth_attribute="truth.label", inference_attribute="out.label",
                      probability_attribute="out.scores[1]", **common)
    model_quality_job(tmp_path / "data.parquet", tmp_path / "parquet", {"parquet": {}},
                      ground_truth_attribute="label", inference_attribute="prediction",
                      probability_attribute="probability", **common)
    assert_binary_matches(tmp_path / "jsonl", frame)
    assert read(tmp_path / "jsonl") == read(tmp_path / "json") == read(tmp_path / "parquet")


def test_multiclass_and_regression_jobs(tmp_path):
    rng = np.random.default_rng(2)
    actual = rng.integers(0, 4, 250)
    predicted = np.where(rng.random(250) < 0.7, actual, rng.integers(0, 4, 250))
    pl.DataFrame({"y": actual, "p": predicted.astype(float)}).write_csv(tmp_path / "multi.csv")
    model_quality_job(tmp_path / "multi.csv", tmp_path / "multi", CSV_FORMAT,
                      problem_type="MulticlassClassification", inference_attribute="p", ground_truth_attribute="y")
    metrics = read(tmp_path / "multi")["multiclass_classification_metrics"]
    assert list(metrics["confusion_matrix"]) == ["0", "1", "2", "3"]  # 2.0 predicted is class "2"
    assert metrics["weighted_f1"]["value"] == pytest.approx(skm.f1_score(actual, predicted, average="weighted"))
    target = rng.normal(5, 2, 250)
    estimate = target + rng.normal(0, 1, 250)
    pl.DataFrame({"target": target, "estimate": estimate}).write_csv(tmp_path / "reg.csv")
    model_quality_job(tmp_path / "reg.csv", tmp_path / "reg", CSV_FORMAT, problem_type="Regression",
                      inference_attribute="estimate", ground_truth_attribute="target")
    statistics = read(tmp_path / "reg")
    assert statistics["regression_metrics"]["r2"]["value"] == pytest.approx(skm.r2_score(target, estimate))
    assert list(read(tmp_path / "reg", "constraints.json")["regression_constraints"]) == ["mae", "mse", "rmse", "r2"]


def merged_record(i: int, label: str, output: dict, time: str = "2024-05-01T10:15:00Z") -> str:
    return json.dumps({
        "eventVersion": "0",
        "groundTruthData": {"data": label, "encoding": "CSV"},
        "captureData": {
            "endpointInput": {"data": "1,2,3", "encoding": "CSV", "mode": "INPUT", "observedContentType": "text/csv"},
            "endpointOutput": {"mode": "OUTPUT", **output}},
        "eventMetadata": {"eventId": f"e{i}", "inferenceId": str(i), "inferenceTime": time},
    }, separators=(",", ":"))


def write_merged(folder: Path, lines: list[str]) -> Path:
    hour = folder / "merge" / "ep" / "AllTraffic" / "2024" / "05" / "01" / "10"
    hour.mkdir(parents=True, exist_ok=True)
    (hour / "part-00000-x.c000.jsonl").write_text("\n".join(lines) + "\n")
    return folder / "merge"


def test_merged_records_csv_json_and_base64_payloads_with_threshold(tmp_path):
    """Scores from CSV, JSON and BASE64 endpoint outputs; labels derived with the 0.8 threshold, as the churn
    schedule does (probability_attribute '0', probability_threshold_attribute 0.8)."""
    frame = rows(seed=4)
    lines = []
    for i, r in enumerate(frame.to_dicts()):
        score = str(r["probability"])
        output = [
            {"data": score, "encoding": "CSV", "observedContentType": "text/csv"},
            {"data": json.dumps([r["probability"]]), "encoding": "JSON", "observedContentType": "application/json"},
            {"data": base64.b64encode(f"{score}\n".encode()).decode(), "encoding": "BASE64",
             "observedContentType": "text/csv"},
        ][i % 3]
        lines.append(merged_record(i, str(r["label"]), output))
    source = write_merged(tmp_path, lines)
    summary = run_environment({
        "analysis_type": "MODEL_QUALITY", "problem_type": "BinaryClassification", "dataset_format": MERGE_FORMAT,
        "dataset_source": str(source), "output_path": str(tmp_path / "out"), "probability_attribute": "0",
        "probability_threshold_attribute": "0.8", "start_time": "2024-05-01T10:00:00Z",
        "end_time": "2024-05-01T11:00:00Z"})
    assert summary.item_count == frame.height and summary.bad_records == {}
    label = frame["label"].to_numpy()
    derived = (frame["probability"].to_numpy() >= 0.8).astype(int)
    values = binary_values(tmp_path / "out")
    assert values["recall"] == pytest.approx(skm.recall_score(label, derived))
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(label, derived))
    assert values["auc"] == pytest.approx(skm.roc_auc_score(label, frame["probability"].to_numpy()))


def test_merged_json_output_by_path_window_and_bad_rows(tmp_path):
    lines = [merged_record(i, str(i % 2), {"data": json.dumps({"predictions": [{"label": i % 2, "score": 0.9}]}),
                                            "encoding": "JSON"}) for i in range(10)]
    lines.append(merged_record(10, "1", {"data": '{"predictions": []}', "encoding": "JSON"}))  # no prediction
    lines.append(merged_record(11, "", {"data": '{"predictions": [{"label": 1}]}', "encoding": "JSON"}))  # no label
    lines.append(merged_record(12, "1", {"data": '{"predictions": [{"label": 1}]}', "encoding": "JSON"},
                               time="2024-05-01T11:00:00Z"))  # outside [start, end)
    lines.append("{not json")
    source = write_merged(tmp_path, lines)
    summary = model_quality_job(source, tmp_path / "out", MERGE_FORMAT, problem_type="BinaryClassification",
                                inference_attribute="predictions[0].label", start_time="2024-05-01T10:00:00Z",
                                end_time="2024-05-01T11:00:00Z")
    assert summary.item_count == 10
    assert summary.bad_records == {"prediction is missing or unreadable": 1, "ground truth is missing": 1,
                                   "line is not a JSON record": 1}
    assert summary.skipped_records == {"outside the analysis window": 1}
    assert binary_values(tmp_path / "out")["accuracy"] == 1.0


def test_merge_job_output_is_read(tmp_path):
    """The lead's ground-truth merge writes what this job reads: capture + labels → merged → metrics."""
    from watchkeeper.jobs.analyzers.ground_truth_merge import merge

    capture = tmp_path / "capture" / "ep" / "AllTraffic" / "2024" / "05" / "01" / "10"
    truth = tmp_path / "truth" / "2024" / "05" / "01" / "11"
    capture.mkdir(parents=True)
    truth.mkdir(parents=True)
    captured, labels = [], []
    for i in range(20):
        captured.append(json.dumps({"captureData": {
            "endpointInput": {"data": "1,2", "encoding": "CSV", "mode": "INPUT", "observedContentType": "text/csv"},
            "endpointOutput": {"data": str(0.9 if i < 10 else 0.1), "encoding": "CSV", "mode": "OUTPUT",
                               "observedContentType": "text/csv"}},
            "eventMetadata": {"eventId": f"ev{i}", "inferenceId": str(i), "inferenceTime": "2024-05-01T10:30:00Z"},
            "eventVersion": "0"}))
        if i % 4:  # a quarter of the inferences never get a label
            labels.append(json.dumps({"groundTruthData": {"data": "1" if i < 14 else "0", "encoding": "CSV"},
                                      "eventMetadata": {"eventId": str(i)}, "eventVersion": "0"}))
    (capture / "a.jsonl").write_text("\n".join(captured) + "\n")
    (truth / "b.jsonl").write_text("\n".join(labels) + "\n")
    merge(tmp_path / "capture", tmp_path / "truth", tmp_path / "merged", start_time="2024-05-01T10:00:00Z",
          end_time="2024-05-01T11:00:00Z")
    summary = model_quality_job(tmp_path / "merged", tmp_path / "out", MERGE_FORMAT,
                                problem_type="BinaryClassification", probability_attribute="0")
    assert summary.item_count == 15
    matrix = read(tmp_path / "out")["binary_classification_metrics"]["confusion_matrix"]
    # labelled: i in 1..19 without multiples of 4; predicted 1 for i < 10, actual 1 for i < 14
    actual = [1 if i < 14 else 0 for i in range(20) if i % 4]
    predicted = [1 if i < 10 else 0 for i in range(20) if i % 4]
    tn, fp, fn, tp = skm.confusion_matrix(actual, predicted).ravel()
    assert matrix == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}


def test_degraded_labels_give_violations(tmp_path):
    frame = rows(n=400, seed=5)
    frame.write_csv(tmp_path / "baseline.csv")
    model_quality_job(tmp_path / "baseline.csv", tmp_path / "baseline", CSV_FORMAT,
                      problem_type="BinaryClassification", inference_attribute="prediction",
                      probability_attribute="probability", ground_truth_attribute="label")
    constraints = tmp_path / "baseline" / "constraints.json"
    same = model_quality_job(tmp_path / "baseline.csv", tmp_path / "same", CSV_FORMAT,
                             problem_type="BinaryClassification", inference_attribute="prediction",
                             probability_attribute="probability", ground_truth_attribute="label",
                             baseline_constraints=constraints)
    assert same.message == "Completed: Job completed successfully with no violations."
    assert read(tmp_path / "same", "constraint_violations.json") == {"violations": []}
    flipped = frame.with_columns(label=pl.when(pl.int_range(pl.len()) % 3 == 0).then(1 - pl.col("label"))
                                 .otherwise(pl.col("label")))
    flipped.write_csv(tmp_path / "worse.csv")
    message = tmp_path / "message"
    summary = run_environment({
        "analysis_type": "MODEL_QUALITY", "problem_type": "BinaryClassification",
        "dataset_format": json.dumps(CSV_FORMAT), "dataset_source": str(tmp_path / "worse.csv"),
        "output_path": str(tmp_path / "worse"), "inference_attribute": "prediction",
        "probability_attribute": "probability", "ground_truth_attribute": "label",
        "baseline_constraints": str(constraints)}, message_file=message)
    violations = read(tmp_path / "worse", "constraint_violations.json")["violations"]
    names = {v["metric_name"] for v in violations}
    assert {"accuracy", "auc", "f1"} <= names and "f0_5" not in names
    expected = f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    assert message.read_text() == expected
    assert summary.violations == violations
    assert sorted(p.name for p in (tmp_path / "worse").iterdir()) == [
        "constraint_violations.json", "constraints.json", "statistics.json"]
    current = binary_values(tmp_path / "worse")
    thresholds = read(tmp_path / "baseline", "constraints.json")["binary_classification_constraints"]
    for v in violations:
        name = next(n for n in thresholds if n.replace("_", "").lower() == v["metric_name"].lower())
        op = thresholds[name]["comparison_operator"]
        assert (current[name] < thresholds[name]["threshold"]) if op == "LessThanThreshold" else \
            (current[name] > thresholds[name]["threshold"])


def test_cloudwatch_metric_lines_for_schedules(tmp_path):
    rows(seed=6).write_csv(tmp_path / "d.csv")
    env = {"analysis_type": "MODEL_QUALITY", "problem_type": "BinaryClassification",
           "dataset_format": json.dumps(CSV_FORMAT), "dataset_source": str(tmp_path / "d.csv"),
           "output_path": str(tmp_path / "out"), "inference_attribute": "prediction",
           "ground_truth_attribute": "label", "publish_cloudwatch_metrics": "Enabled",
           "CLOUDWATCH_METRICS_DIRECTORY": str(tmp_path / "cw")}
    with pytest.raises(JobFailed, match="only for jobs from MonitoringSchedules"):
        run_environment(env)
    run_environment({**env, "sagemaker_monitoring_schedule_name": "s", "sagemaker_endpoint_name": "ep",
                     "metric_time": "2024-05-01T10:00:00Z"})
    lines = [json.loads(line) for line in (tmp_path / "cw" / "model-quality-metrics.jsonl").read_text().splitlines()]
    by_name = {line["MetricName"]: line for line in lines}
    assert by_name["accuracy"]["Value"] == binary_values(tmp_path / "out")["accuracy"]
    assert by_name["accuracy"]["Timestamp"] == "2024-05-01T10:00:00Z"


def test_failures_name_their_cause(tmp_path):
    frame = rows(n=20)
    frame.write_csv(tmp_path / "d.csv")
    common = {"problem_type": "BinaryClassification", "ground_truth_attribute": "label"}
    with pytest.raises(JobFailed, match=r"'pred' is not a column of the dataset .*probability, prediction, label"):
        model_quality_job(tmp_path / "d.csv", tmp_path / "o", CSV_FORMAT, inference_attribute="pred", **common)
    with pytest.raises(JobFailed, match="inference_attribute or probability_attribute is required"):
        model_quality_job(tmp_path / "d.csv", tmp_path / "o", CSV_FORMAT, **common)
    with pytest.raises(JobFailed, match="problem_type must be one of"):
        model_quality_job(tmp_path / "d.csv", tmp_path / "o", CSV_FORMAT, problem_type="Ranking",
                          inference_attribute="prediction", ground_truth_attribute="label")
    (tmp_path / "empty").mkdir()
    with pytest.raises(JobFailed, match=r"^Job inputs had no data$"):
        model_quality_job(tmp_path / "empty", tmp_path / "o", CSV_FORMAT, inference_attribute="prediction", **common)
    (tmp_path / "blank.csv").write_text("probability,prediction,label\n0.5,1,\n0.2,,\n")
    with pytest.raises(JobFailed, match=r"Job inputs had no data: no record had both .*2 x ground truth is missing"):
        model_quality_job(tmp_path / "blank.csv", tmp_path / "o", CSV_FORMAT, inference_attribute="prediction",
                          **common)
    (tmp_path / "words.csv").write_text("prediction,label\nspam,ham\nham,ham\n")
    with pytest.raises(JobFailed, match="positive_label is required"):
        model_quality_job(tmp_path / "words.csv", tmp_path / "o", CSV_FORMAT, inference_attribute="prediction",
                          **common)
    summary = model_quality_job(tmp_path / "words.csv", tmp_path / "o", CSV_FORMAT, inference_attribute="prediction",
                                positive_label="spam", **common)
    assert summary.statistics["binary_classification_metrics"]["precision"]["value"] == 0.0
    with pytest.raises(JobFailed, match=r"not a model-quality document|cannot be checked"):
        model_quality_job(tmp_path / "d.csv", tmp_path / "o", CSV_FORMAT, inference_attribute="prediction",
                          baseline_constraints={"version": 0.0, "features": []}, **common)


def test_bad_probabilities_and_labels_are_counted(tmp_path):
    text = "probability,prediction,label\n" + "".join(f"0.{i % 10},{i % 2},{i % 2}\n" for i in range(30))
    text += "high,1,1\n0.4,1,\n"
    (tmp_path / "d.csv").write_text(text)
    summary = model_quality_job(tmp_path / "d.csv", tmp_path / "o", CSV_FORMAT, problem_type="BinaryClassification",
                                inference_attribute="prediction", probability_attribute="probability",
                                ground_truth_attribute="label")
    assert summary.item_count == 30
    assert summary.bad_records == {"probability is missing or not a number": 1, "ground truth is missing": 1}
    (tmp_path / "r.csv").write_text("y,p\n1,2\nx,3\n4,\n5,6\n")
    summary = model_quality_job(tmp_path / "r.csv", tmp_path / "r", CSV_FORMAT, problem_type="Regression",
                                inference_attribute="p", ground_truth_attribute="y")
    assert summary.item_count == 2
    assert summary.bad_records == {"ground truth is not a number": 1, "prediction is missing or unreadable": 1}
    assert summary.statistics["regression_metrics"]["mae"] == {"value": 1.0, "standard_deviation": "NaN"}

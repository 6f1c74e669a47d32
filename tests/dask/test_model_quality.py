"""Model quality on a real 2-process LocalCluster: every metric, the confusion matrix, the curves and every
constraint decision equal the single-process run's; only the standard deviations come from other Bernoulli
draws (each part samples its own rows) and are checked for being of the same size where they are continuous."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from watchkeeper.jobs.analyzers.distributed import model_quality_compute
from watchkeeper.jobs.analyzers.model_quality import model_quality_job
from watchkeeper.jobs.executors.dask import DaskRunner

CSV = {"csv": {"header": True}}
ATTRIBUTES = {"ground_truth_attribute": "label", "inference_attribute": "pred", "probability_attribute": "prob"}


def write_predictions(path: Path, rows: int, seed: int, skill: float) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, rows)
    prob = np.clip(labels * skill + rng.random(rows) * (1 - skill), 0, 1)
    lines = ["label,pred,prob"] + [f"{a},{int(p > 0.5)},{p:.4f}" for a, p in zip(labels, prob, strict=True)]
    lines[7::97] = ["," + line.split(",", 1)[1] for line in lines[7::97]]  # some rows without a label
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _split_values(document: dict) -> tuple[dict, dict]:
    metrics = document["binary_classification_metrics"]
    values = {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in metrics.items()}
    deviations = {k: v["standard_deviation"] for k, v in metrics.items() if isinstance(v, dict) and "value" in v}
    return values, deviations


@pytest.mark.parametrize("positive", [None, "0"])
def test_binary_metrics_and_decisions_are_the_single_process_ones(client, tmp_path, positive):
    baseline_data, window = tmp_path / "baseline", tmp_path / "window"
    write_predictions(baseline_data / "big.csv", 8_000, 1, 0.4)
    write_predictions(baseline_data / "small.csv", 500, 2, 0.4)
    write_predictions(window / "a.csv", 4_000, 3, 0.1)  # a worse model: violations
    runs = {"one": {}, "two": {"compute": model_quality_compute(DaskRunner(client), part_bytes=8 << 10)}}
    for run, extra in runs.items():
        model_quality_job(baseline_data, tmp_path / run / "baseline", CSV, problem_type="BinaryClassification",
                          positive_label=positive, **ATTRIBUTES, **extra)
    constraints = tmp_path / "one" / "baseline" / "constraints.json"
    assert (tmp_path / "two" / "baseline" / "constraints.json").read_text() == constraints.read_text()
    summaries = {run: model_quality_job(window, tmp_path / run / "window", CSV, problem_type="BinaryClassification",
                                        positive_label=positive, baseline_constraints=constraints, **ATTRIBUTES,
                                        **extra) for run, extra in runs.items()}
    assert summaries["two"].message == summaries["one"].message
    assert summaries["two"].bad_records == summaries["one"].bad_records != {}
    for folder in ("baseline", "window"):
        one, two = (json.loads((tmp_path / run / folder / "statistics.json").read_text()) for run in runs)
        assert two["dataset"] == one["dataset"]
        (values_one, sd_one), (values_two, sd_two) = _split_values(one), _split_values(two)
        assert values_two == values_one  # confusion matrix, every metric, the curves
        assert sd_two.keys() == sd_one.keys()
        for name in ("recall", "precision", "accuracy", "f1", "auc"):  # continuous in the sample (not majority)
            assert 0 < sd_two[name] == pytest.approx(sd_one[name], abs=0.02), name
    # the decisions; the descriptions quote the standard deviation too
    decisions = [sorted((v["metric_name"], v["constraint_check_type"]) for v in json.loads(
        (tmp_path / run / "window" / "constraint_violations.json").read_text())["violations"]) for run in runs]
    assert decisions[0] and decisions[1] == decisions[0]


def test_a_task_s_failure_is_the_job_s_failure_with_the_same_reason(client, tmp_path):
    from watchkeeper.jobs.toolkit.summary import JobFailed

    write_predictions(tmp_path / "data" / "a.csv", 2_000, 4, 0.3)
    reasons = []
    for extra in ({}, {"compute": model_quality_compute(DaskRunner(client), part_bytes=8 << 10)}):
        with pytest.raises(JobFailed) as failed:  # raised inside a task on a worker for the cluster run
            model_quality_job(tmp_path / "data", tmp_path / "out", CSV, problem_type="BinaryClassification",
                              **{**ATTRIBUTES, "ground_truth_attribute": "truth"}, **extra)
        reasons.append(str(failed.value))
    assert "'truth' is not a column" in reasons[0] and reasons[1] == reasons[0]


def test_merged_records_in_a_window_give_the_single_process_metrics(client, tmp_path):
    """The monitoring job's input: merged capture + ground-truth records, several files, a window."""
    rng = np.random.default_rng(9)
    folder = tmp_path / "merge" / "ep" / "AllTraffic" / "2024" / "05" / "01" / "10"
    folder.mkdir(parents=True)
    for part in range(5):
        lines = []
        for i in range(800):
            label = int(rng.integers(0, 2))
            score = float(np.clip(label * 0.3 + rng.random() * 0.7, 0, 1))
            minute = "59" if i % 50 == 0 else "15"  # some records after the window's end
            lines.append(json.dumps({
                "eventVersion": "0",
                "groundTruthData": {"data": "" if i % 77 == 1 else str(label), "encoding": "CSV"},
                "captureData": {"endpointOutput": {"mode": "OUTPUT", "data": f"{score:.4f}", "encoding": "CSV",
                                                   "observedContentType": "text/csv"}},
                "eventMetadata": {"eventId": f"{part}-{i}", "inferenceId": str(i),
                                  "inferenceTime": f"2024-05-01T1{0 if minute == '15' else 1}:{minute}:00Z"}}))
        (folder / f"part-{part:05d}.jsonl").write_text("\n".join(lines) + "\n")
    fmt = {"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}
    options = {"problem_type": "BinaryClassification", "probability_attribute": "0",
               "probability_threshold_attribute": "0.6", "start_time": "2024-05-01T10:00:00Z",
               "end_time": "2024-05-01T11:00:00Z"}
    one = model_quality_job(tmp_path / "merge", tmp_path / "one", fmt, **options)
    two = model_quality_job(tmp_path / "merge", tmp_path / "two", fmt, **options,
                            compute=model_quality_compute(DaskRunner(client), part_bytes=600_000))
    assert two.item_count == one.item_count > 3_000
    assert two.bad_records == one.bad_records != {} and two.skipped_records == one.skipped_records != {}
    assert two.message == one.message and two.input_files == one.input_files == 5
    values = [_split_values(json.loads((tmp_path / run / "statistics.json").read_text()))[0] for run in ("one", "two")]
    assert values[1] == values[0]

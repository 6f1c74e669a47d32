"""`watchkeeper baseline --analysis-type model-quality` end to end."""

from __future__ import annotations

import json

import pytest

from tests.model_quality.artifacts import RUN_B, VALIDATION_CSV, displayed_constraints
from watchkeeper.cli import main


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return done.value.code


def test_churn_baseline_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert run("baseline", "--analysis-type", "model-quality", "--problem-type", "BinaryClassification",
               "--inference-attribute", "prediction", "--probability-attribute", "probability",
               "--ground-truth-attribute", "label", "--dataset", str(VALIDATION_CSV), "--format", "csv",
               "--header", "--output", str(out), "--no-progress", "--log", str(tmp_path / "job.log")) == 0
    printed = capsys.readouterr().out
    assert "Completed: Job completed successfully with no violations. Analysed 201 rows from 1 files." in printed
    assert f"Wrote {out}/statistics.json, {out}/constraints.json" in printed
    constraints = json.loads((out / "constraints.json").read_text())["binary_classification_constraints"]
    assert {k: v["comparison_operator"] for k, v in constraints.items()} == \
        {k: op for k, (_, op) in displayed_constraints(RUN_B).items()}
    assert "Evaluated 201 rows" in (tmp_path / "job.log").read_text()


def test_threshold_and_positive_label_from_jsonl(tmp_path, capsys):
    records = [{"score": s / 10, "truth": "yes" if s >= 5 else "no"} for s in range(10)] * 3
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out"
    assert run("baseline", "--analysis-type", "model-quality", "--problem-type", "BinaryClassification",
               "--probability-attribute", "score", "--probability-threshold-attribute", "0.7",
               "--positive-label", "yes", "--ground-truth-attribute", "truth", "--dataset", str(tmp_path / "d.jsonl"),
               "--format", "jsonl", "--output", str(out), "--no-progress") == 0
    metrics = json.loads((out / "statistics.json").read_text())["binary_classification_metrics"]
    # scores 0.7, 0.8, 0.9 predicted "yes"; 0.5 and 0.6 are "yes" but missed
    assert metrics["confusion_matrix"] == {"no": {"no": 15, "yes": 0}, "yes": {"no": 6, "yes": 9}}
    assert metrics["auc"]["value"] == 1.0


def test_problem_type_is_required(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("p,y\n1,1\n")
    assert run("baseline", "--analysis-type", "model-quality", "--inference-attribute", "p",
               "--ground-truth-attribute", "y", "--dataset", str(tmp_path / "d.csv"), "--header",
               "--output", str(tmp_path / "o"), "--no-progress") == 2
    assert "needs --problem-type" in capsys.readouterr().err


def test_failure_is_reported(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("p,y\n1,1\n")
    assert run("baseline", "--analysis-type", "model-quality", "--problem-type", "Regression",
               "--inference-attribute", "q", "--ground-truth-attribute", "y", "--dataset", str(tmp_path / "d.csv"),
               "--header", "--output", str(tmp_path / "o"), "--no-progress") == 1
    assert "failed: The inference_attribute 'q' is not a column" in capsys.readouterr().err

"""`watchkeeper baseline` and `watchkeeper analyze` end to end on files (and s3:// on the embedded store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analysis.artifacts import TRAINING_CSV, aws_statistics
from watchkeeper.cli import main


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return done.value.code


def capture_file(folder: Path, rows: list[str], output: str = "0.25") -> Path:
    hour = folder / "churn" / "AllTraffic" / "2022" / "03" / "24" / "00"
    hour.mkdir(parents=True, exist_ok=True)
    with open(hour / "23-04-016-abc.jsonl", "w") as handle:
        for i, row in enumerate(rows):
            handle.write(json.dumps({
                "captureData": {
                    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": row,
                                      "encoding": "CSV"},
                    "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                       "data": output, "encoding": "CSV"}},
                "eventMetadata": {"eventId": str(i), "inferenceTime": f"2022-03-24T00:{i % 60:02d}:04Z"},
                "eventVersion": "0"}) + "\n")
    return folder


@pytest.fixture(scope="module")
def churn_baseline(tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    assert run("baseline", "--dataset", str(TRAINING_CSV), "--format", "csv", "--header", "--output", str(out),
               "--no-progress") == 0
    return out


def test_baseline_writes_aws_statistics_and_constraints(churn_baseline, capsys):
    assert sorted(p.name for p in churn_baseline.iterdir()) == [
        "baseline_state.json.gz", "constraints.json", "statistics.json"]
    statistics = json.loads((churn_baseline / "statistics.json").read_text())
    assert statistics["features"][:33] == aws_statistics()["features"]
    assert (churn_baseline / "statistics.json").read_text().startswith('{\n  "version" : 0.0,\n')


def test_analyze_prints_summary_and_violations_and_exits_zero(churn_baseline, tmp_path, capsys):
    rows = [line.split(",", 1)[1] for line in TRAINING_CSV.read_text().splitlines()[1:501]]
    capture = capture_file(tmp_path / "capture", rows)
    report = tmp_path / "report"
    code = run("analyze", "--input", str(capture),
               "--baseline-statistics", str(churn_baseline / "statistics.json"),
               "--baseline-constraints", str(churn_baseline / "constraints.json"),
               "--output", str(report), "--start", "2022-03-24T00:00:00Z", "--end", "2022-03-24T01:00:00Z",
               "--no-progress")
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("CompletedWithViolations: Job completed successfully with ")
    assert "Analysed 500 rows from 1 files." in out.splitlines()[0]
    assert "Churn: data_type_check: Data type match requirement is not met." in out
    assert sorted(p.name for p in report.iterdir()) == [
        "constraint_violations.json", "constraints.json", "statistics.json"]
    violations = json.loads((report / "constraint_violations.json").read_text())["violations"]
    assert len(violations) == int(out.split(" with ")[1].split()[0])


def test_baseline_of_json_lines(tmp_path, capsys):
    (tmp_path / "d.jsonl").write_text('{"x": 1, "y": "a"}\n{"x": 2, "y": "b"}\n')
    assert run("baseline", "--dataset", str(tmp_path / "d.jsonl"), "--format", "jsonl",
               "--output", str(tmp_path / "out")) == 0
    names = [f["name"] for f in json.loads((tmp_path / "out" / "statistics.json").read_text())["features"]]
    assert names == ["x", "y"]
    assert "Analysed 2 rows from 1 files." in capsys.readouterr().out


def test_failures_exit_one_with_the_reason(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    assert run("baseline", "--dataset", str(tmp_path / "empty.csv"), "--output", str(tmp_path / "out")) == 1
    assert capsys.readouterr().err.strip() == "watchkeeper baseline: failed: Job inputs had no data"
    assert run("analyze", "--input", str(tmp_path), "--output", str(tmp_path / "r"), "--start", "noon") == 1
    assert "Invalid analysis window" in capsys.readouterr().err


def test_script_output_goes_to_the_log_file(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a\n1\n2\n")
    (tmp_path / "post.py").write_text("def postprocess_handler():\n    print('hello from post')\n")
    log = tmp_path / "job.log"
    assert run("baseline", "--dataset", str(tmp_path / "d.csv"), "--header", "--output", str(tmp_path / "out"),
               "--postprocessor", str(tmp_path / "post.py"), "--log", str(log)) == 0
    assert "hello from post" in log.read_text()
    assert "hello from post" not in capsys.readouterr().out


def test_s3_uris_on_the_embedded_store(tmp_path, capsys):
    data_dir = tmp_path / "wk"
    bucket = data_dir / "s3" / "bucket"
    (bucket / "train").mkdir(parents=True)
    (bucket / "train" / "d.csv").write_text("a,b\n1,x\n2,y\n")
    assert run("baseline", "--dataset", "s3://bucket/train", "--header", "--output", "s3://bucket/baseline",
               "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    assert "s3://bucket/baseline/statistics.json" in out
    stats = json.loads((bucket / "baseline" / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 2
    capture_file(bucket / "capture", ["1,x", "2,y"], output="3")
    assert run("analyze", "--input", "s3://bucket/capture", "--output", "s3://bucket/report",
               "--baseline-statistics", "s3://bucket/baseline/statistics.json",
               "--baseline-constraints", "s3://bucket/baseline/constraints.json", "--data-dir", str(data_dir)) == 0
    assert (bucket / "report" / "constraint_violations.json").is_file()


def test_the_installed_command(tmp_path):
    (tmp_path / "d.csv").write_text("a\n1\n")
    done = subprocess.run([sys.executable, "-m", "watchkeeper", "baseline", "--dataset", str(tmp_path / "d.csv"),
                           "--header", "--output", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Completed: Job completed successfully with no violations.")

"""The built-in analyzer job: every input format, bad data, windows, scripts, empty input, and the
container Environment entry (spec §4)."""

from __future__ import annotations

import io
import json
import os
import re
import textwrap
from pathlib import Path

import polars as pl
import pytest

from tests.analysis.artifacts import ARTIFACTS, TRAINING_CSV, aws_statistics
from watchkeeper.analysis import aws_json, state_file
from watchkeeper.jobs.analyzers.data_quality import analyze, suggest_baseline
from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.toolkit.formats import DatasetFormat
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.scripts import POSTPROCESSOR_MISSING, PREPROCESSOR_FAILURE
from watchkeeper.jobs.toolkit.summary import BAD_JSON, WRONG_WIDTH, JobFailed

CSV_HEADER = {"csv": {"header": True, "output_columns_position": "START"}}


def capture_line(inp: str | None, out: str | None, time: str = "2022-03-24T00:10:00Z", **extra) -> str:
    data = {}
    if inp is not None:
        data["endpointInput"] = {"observedContentType": "text/csv", "mode": "INPUT", "data": inp, "encoding": "CSV"}
    if out is not None:
        data["endpointOutput"] = {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                  "data": out, "encoding": "CSV"}
    return json.dumps({"captureData": data, "eventMetadata": {"eventId": "e", "inferenceTime": time, **extra},
                       "eventVersion": "0"})


def write_capture(root: Path, lines: list[str], hour: str = "00", name: str = "10-00-000-a.jsonl") -> Path:
    folder = root / "endpoint" / "AllTraffic" / "2022" / "03" / "24" / hour
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(line + "\n" for line in lines))
    return root


def features(path: Path) -> dict[str, dict]:
    return {f["name"]: f for f in json.loads(path.read_text())["features"]}


# ------------------------------------------------------------------------------------------ baselines


def test_churn_baseline_reproduces_aws(tmp_path):
    summary = suggest_baseline(TRAINING_CSV, tmp_path, CSV_HEADER)
    assert summary.item_count == 2333 and summary.bad_records == {}
    assert summary.message == "Completed: Job completed successfully with no violations."
    assert summary.outputs == ["statistics.json", "constraints.json", "baseline_state.json.gz"]
    assert summary.status == "Completed" and summary.result.violations is None
    text = (tmp_path / "statistics.json").read_text()
    assert text == aws_json.dumps(summary.statistics)
    written = json.loads(text)
    assert written["features"][:33] == aws_statistics()["features"]
    aws_constraints = json.loads((ARTIFACTS / "constraints.json").read_text())
    assert json.loads((tmp_path / "constraints.json").read_text())["features"] == aws_constraints["features"]
    # the mergeable state beside them renders the very same statistics.json
    assert aws_json.dumps(state_file.load(tmp_path / "baseline_state.json.gz").to_document()) == text


def test_a_baseline_state_merges_with_a_later_dataset_as_one_baseline_of_both(tmp_path):
    rows = TRAINING_CSV.read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(rows[:901]) + "\n")  # 900 rows: no KLL compaction in a or a+b
    (tmp_path / "b.csv").write_text("\n".join([rows[0], *rows[901:1801]]) + "\n")
    (tmp_path / "ab.csv").write_text("\n".join(rows[:1801]) + "\n")
    for name in ("a", "b", "ab"):
        suggest_baseline(tmp_path / f"{name}.csv", tmp_path / name, CSV_HEADER)
    first, second = (state_file.load(tmp_path / name / "baseline_state.json.gz") for name in ("a", "b"))
    merged = first.merge(second).to_document()
    whole = json.loads((tmp_path / "ab" / "statistics.json").read_text())
    for got, want in zip(merged["features"], whole["features"], strict=True):
        for stats in ("numerical_statistics", "string_statistics"):
            if stats in want:
                for key in ("sum", "mean", "std_dev"):
                    if key in want[stats]:
                        assert got[stats].pop(key) == pytest.approx(want[stats].pop(key), rel=1e-12)
        assert got == want


def test_csv_without_header_is_named_c0(tmp_path):
    (tmp_path / "train.csv").write_text("1,a\n2,b\n")
    summary = suggest_baseline(tmp_path / "train.csv", tmp_path / "out", {"csv": {"header": False}})
    assert [f["name"] for f in summary.statistics["features"]] == ["_c0", "_c1"]
    assert [f["inferred_type"] for f in summary.statistics["features"]] == ["Integral", "String"]


def test_folder_of_csv_files_each_with_header(tmp_path):
    data = tmp_path / "data"
    (data / "part").mkdir(parents=True)
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "part" / "b.csv").write_text("x,y\n3,4\n5,6\n")
    (data / "_SUCCESS").write_text("")
    summary = suggest_baseline(data, tmp_path / "out", CSV_HEADER)
    assert summary.item_count == 3 and summary.input_files == 2
    assert summary.statistics["features"][0]["numerical_statistics"]["sum"] == 9.0


@pytest.fixture
def same_data_in_every_format(tmp_path):
    frame = pl.DataFrame({"b_label": [0, 1, 1, 0], "a_amount": [1.5, 2.0, None, 4.25], "c_kind": ["x", "y", "x", "x"]})
    frame.write_csv(tmp_path / "d.csv")
    frame.write_ndjson(tmp_path / "d.jsonl")
    (tmp_path / "d.json").write_text(json.dumps(frame.to_dicts()))
    frame.write_parquet(tmp_path / "d.parquet")
    return tmp_path


@pytest.mark.parametrize(("name", "fmt"), [
    ("d.csv", {"csv": {"header": True}}),
    ("d.jsonl", {"json": {"lines": True}}),
    ("d.json", {"json": {"lines": False}}),
    ("d.parquet", {"parquet": {}}),
])
def test_every_dataset_format(same_data_in_every_format, name, fmt):
    folder = same_data_in_every_format
    summary = suggest_baseline(folder / name, folder / ("out-" + name), fmt)
    by_name = {f["name"]: f for f in summary.statistics["features"]}
    assert summary.item_count == 4
    assert by_name["b_label"]["inferred_type"] == "Integral"
    assert by_name["b_label"]["numerical_statistics"]["sum"] == 2.0
    assert by_name["a_amount"]["inferred_type"] == "Fractional"
    assert by_name["a_amount"]["numerical_statistics"]["common"] == {"num_present": 3, "num_missing": 1}
    assert by_name["a_amount"]["numerical_statistics"]["sum"] == 7.75
    assert by_name["c_kind"]["string_statistics"]["distinct_count"] == 2.0
    if "json" in fmt:  # Spark's JSON reader orders columns by name
        assert list(by_name) == ["a_amount", "b_label", "c_kind"]
    else:
        assert list(by_name) == ["b_label", "a_amount", "c_kind"]


def test_bad_rows_are_counted_and_reported(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3\n4,5,6\n7,8\n")
    summary = suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER)
    assert summary.item_count == 4
    assert summary.bad_records == {WRONG_WIDTH: 2}
    assert "2 bad records" in summary.describe()
    (tmp_path / "d.jsonl").write_text('{"a": 1}\n{broken\n{"a": 2}\n')
    log = io.StringIO()
    summary = suggest_baseline(tmp_path / "d.jsonl", tmp_path / "out2", {"json": {"lines": True}}, log=JobLog(log))
    assert summary.item_count == 2 and summary.bad_records == {BAD_JSON: 1}
    assert "Bad records: 1 x line is not a JSON object" in log.getvalue()


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_input_fails_like_aws(tmp_path, content):
    (tmp_path / "d.csv").write_text(content)
    with pytest.raises(JobFailed, match=r"^Job inputs had no data$"):
        suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER)
    assert not (tmp_path / "out" / "statistics.json").exists()


def test_empty_folder_and_missing_input_fail(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(JobFailed, match="Job inputs had no data"):
        suggest_baseline(tmp_path / "empty", tmp_path / "out", CSV_HEADER)
    with pytest.raises(JobFailed, match="Job inputs had no data"):
        suggest_baseline(tmp_path / "nowhere", tmp_path / "out", CSV_HEADER)


# ---------------------------------------------------------------------------------------- monitoring


@pytest.fixture
def baseline(tmp_path):
    (tmp_path / "train.csv").write_text("label,age,city\n" + "".join(
        f"{i % 2},{20 + i % 30},{'ab'[i % 2]}\n" for i in range(200)))
    suggest_baseline(tmp_path / "train.csv", tmp_path / "baseline", CSV_HEADER)
    return tmp_path / "baseline"


def test_analyze_a_capture_window_against_the_baseline(tmp_path, baseline):
    lines = [capture_line(f"{20 + i % 30},{'ab'[i % 2]}", str(i % 2), time=f"2022-03-24T00:{i % 60:02d}:00Z")
             for i in range(120)]
    lines += [capture_line("25,a", "0.73", time="2022-03-24T00:30:00Z"), "not json"]
    capture = write_capture(tmp_path / "capture", lines)
    write_capture(capture, [capture_line("99,zz", "1", time="2022-03-24T01:05:00Z")], hour="01")
    summary = analyze(capture, tmp_path / "report", baseline_statistics=baseline / "statistics.json",
                      baseline_constraints=baseline / "constraints.json",
                      start_time="2022-03-24T00:00:00Z", end_time="2022-03-24T01:00:00Z")
    assert summary.item_count == 121
    assert summary.bad_records == {"line is not a JSON capture record": 1}
    assert summary.skipped_records == {"outside the analysis window": 1}
    assert summary.outputs == ["statistics.json", "constraints.json", "constraint_violations.json"]
    current = features(tmp_path / "report" / "statistics.json")
    assert list(current) == ["label", "age", "city"]  # names from the baseline, output column first
    assert current["label"]["inferred_type"] == "Fractional"
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())["violations"]
    assert {"feature_name": "label", "constraint_check_type": "data_type_check",
            "description": "Data type match requirement is not met. Expected data type: Integral, Expected "
                           "match: 100.0%. Observed: Only 99.17355371900827% of data is Integral."} in violations
    assert summary.message == (f"CompletedWithViolations: Job completed successfully with {len(violations)} "
                               "violations. 1 of 122 records could not be parsed (1 not JSON).")
    assert summary.violations == violations
    assert summary.status == "CompletedWithViolations" == summary.result.status
    assert summary.result_document() == {
        "version": 1, "analysis_type": "DATA_QUALITY", "status": "CompletedWithViolations",
        "violations": len(violations), "violations_by_check": summary.result.violations_by_check(),
        "item_count": 121, "bad_records": {"line is not a JSON capture record": 1},
        "skipped_records": {"outside the analysis window": 1}, "input_files": 2}


def test_analyze_without_violations(tmp_path, baseline):
    lines = [capture_line(f"{20 + i % 30},{'ab'[i % 2]}", str(i % 2)) for i in range(200)]
    summary = analyze(write_capture(tmp_path / "capture", lines), tmp_path / "report",
                      baseline_statistics=baseline / "statistics.json",
                      baseline_constraints=baseline / "constraints.json")
    assert summary.violations == []
    assert summary.message == "Completed: Job completed successfully with no violations."
    assert summary.status == "Completed"
    assert json.loads((tmp_path / "report" / "constraint_violations.json").read_text()) == {"violations": []}


def test_a_window_without_records_has_no_data(tmp_path, baseline):
    capture = write_capture(tmp_path / "capture", [capture_line("1,a", "0")])
    with pytest.raises(JobFailed, match=r"^Job inputs had no data$"):
        analyze(capture, tmp_path / "report", baseline_constraints=baseline / "constraints.json",
                start_time="2023-01-01T00:00:00Z", end_time="2023-01-01T01:00:00Z")


def test_analyze_a_batch_transform_dataset(tmp_path, baseline):
    (tmp_path / "out.csv").write_text("".join(f"{i % 2},{20 + i % 30},{'ab'[i % 2]}\n" for i in range(50)))
    summary = analyze(tmp_path / "out.csv", tmp_path / "report", {"csv": {"header": False}},
                      baseline_statistics=baseline / "statistics.json",
                      baseline_constraints=baseline / "constraints.json")
    assert summary.item_count == 50
    # a header-less dataset takes the baseline's names by position, like capture data
    assert [f["name"] for f in summary.statistics["features"]] == ["label", "age", "city"]
    assert summary.violations == []


def test_aws_written_baseline_files_work(tmp_path):
    rows = TRAINING_CSV.read_text().splitlines()[1:301]
    lines = [capture_line(row.split(",", 1)[1], "0.25") for row in rows]
    capture = write_capture(tmp_path / "capture", lines)
    aws_stats = aws_statistics()
    summary = analyze(capture, tmp_path / "report", baseline_statistics=aws_stats,
                      baseline_constraints=ARTIFACTS / "constraints.json")
    assert summary.item_count == 300
    names = [f["name"] for f in summary.statistics["features"]]
    assert names[:33] == [f["name"] for f in aws_stats["features"]] and len(names) == 70
    churn = [v for v in summary.violations if v["feature_name"] == "Churn"]
    assert any("Only 0.0% of data is Integral." in v["description"] for v in churn)


# -------------------------------------------------------------------------------------------- scripts


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_capture_preprocessor_reshapes_filters_and_logs(tmp_path, baseline):
    pre = script(tmp_path, "pre.py", """\
        def preprocess_handler(inference_record, logger):
            inputs = inference_record.endpoint_input.data.split(",")
            if inputs[1] == "b":
                return []
            print("seen", inference_record.event_metadata.event_id)
            logger.info("via logger")
            output = inference_record.endpoint_output.data
            return {str(i).zfill(20): v for i, v in enumerate([output] + inputs)}
        """)
    lines = [capture_line(f"{20 + i},{'ab'[i % 2]}", str(i % 2)) for i in range(10)]
    log = io.StringIO()
    summary = analyze(write_capture(tmp_path / "capture", lines), tmp_path / "report",
                      baseline_statistics=baseline / "statistics.json",
                      baseline_constraints=baseline / "constraints.json",
                      record_preprocessor_script=pre, log=JobLog(log))
    assert summary.item_count == 5
    assert [f["name"] for f in summary.statistics["features"]] == ["label", "age", "city"]
    assert log.getvalue().count("seen e") == 5 and "via logger" in log.getvalue()


def test_dataset_preprocessor_gets_csv_lines(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3,4\n")
    pre = script(tmp_path, "pre.py", """\
        def preprocess_handler(line):
            a, b = line.strip().split(",")
            return {"sum": int(a) + int(b), "line_ends_with_newline": line.endswith("\\n")}
        """)
    summary = suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER, record_preprocessor_script=pre)
    by_name = {f["name"]: f for f in summary.statistics["features"]}
    assert by_name["sum"]["numerical_statistics"]["sum"] == 10.0
    assert by_name["line_ends_with_newline"]["string_statistics"]["distribution"]["categorical"]["buckets"] == [
        {"value": "true", "count": 2.0}]


def test_failing_preprocessor_fails_the_job_naming_script_and_line(tmp_path, baseline):
    pre = script(tmp_path, "my_pre.py", """\
        def preprocess_handler(inference_record):
            value = inference_record.endpoint_input.data
            return {"x": 1 / 0}
        """)
    log = io.StringIO()
    with pytest.raises(JobFailed) as failure:
        analyze(write_capture(tmp_path / "capture", [capture_line("1,a", "0")]), tmp_path / "report",
                baseline_constraints=baseline / "constraints.json", record_preprocessor_script=pre,
                log=JobLog(log))
    reason = str(failure.value)
    assert reason.startswith(PREPROCESSOR_FAILURE)
    assert "ZeroDivisionError" in reason and "my_pre.py, line 3" in reason
    assert "Traceback" in log.getvalue()


def test_preprocessor_with_a_syntax_error_or_no_handler(tmp_path):
    (tmp_path / "d.csv").write_text("a\n1\n")
    broken = script(tmp_path, "broken.py", "def preprocess_handler(r):\n    return {\n")
    with pytest.raises(JobFailed, match=r"SyntaxError.*broken.py, line \d"):
        suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER, record_preprocessor_script=broken)
    empty = script(tmp_path, "empty.py", "x = 1\n")
    with pytest.raises(JobFailed, match="does not define preprocess_handler"):
        suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER, record_preprocessor_script=empty)


def test_preprocessor_is_refused_for_parquet(tmp_path):
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "d.parquet")
    pre = script(tmp_path, "pre.py", "def preprocess_handler(r):\n    return r\n")
    with pytest.raises(JobFailed, match="Preprocessor script not supported for format parquet"):
        suggest_baseline(tmp_path / "d.parquet", tmp_path / "out", {"parquet": {}}, record_preprocessor_script=pre)


def test_postprocessor_runs_after_outputs_with_the_environment(tmp_path):
    (tmp_path / "d.csv").write_text("a\n1\n")
    post = script(tmp_path, "post.py", """\
        import json, os
        def postprocess_handler():
            out = os.environ["output_path"]
            stats = json.load(open(os.path.join(out, "statistics.json")))
            print("post-processing", stats["dataset"]["item_count"])
            open(os.path.join(out, "custom.txt"), "w").write(os.environ["my_setting"])
        """)
    log = io.StringIO()
    out = tmp_path / "out"
    suggest_baseline(tmp_path / "d.csv", out, CSV_HEADER, post_analytics_processor_script=post, log=JobLog(log),
                     environment={"output_path": str(out), "my_setting": "hello"})
    assert (out / "custom.txt").read_text() == "hello"
    assert "post-processing 1" in log.getvalue()
    assert "my_setting" not in os.environ


def test_postprocessor_failures(tmp_path):
    (tmp_path / "d.csv").write_text("a\n1\n")
    missing = script(tmp_path, "missing.py", "def other():\n    pass\n")
    with pytest.raises(JobFailed, match=re.escape(POSTPROCESSOR_MISSING)):
        suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER, post_analytics_processor_script=missing)
    raising = script(tmp_path, "raising.py", "def postprocess_handler():\n    raise RuntimeError('boom')\n")
    with pytest.raises(JobFailed, match=r"post-analytics processor script.*RuntimeError: boom \(raising.py, line 2\)"):
        suggest_baseline(tmp_path / "d.csv", tmp_path / "out", CSV_HEADER, post_analytics_processor_script=raising)


# ----------------------------------------------------------------------------------------- Environment


def test_environment_of_the_real_baselining_job(tmp_path):
    source = tmp_path / "input" / "baseline_dataset_input"
    source.mkdir(parents=True)
    (source / "training-dataset-with-header.csv").write_bytes(TRAINING_CSV.read_bytes())
    environment = {  # the SDK's Environment, as the 2022 run logged it (README of the artifacts)
        "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
        "dataset_source": str(source),
        "output_path": str(tmp_path / "output"),
        "publish_cloudwatch_metrics": "Disabled",
    }
    message = tmp_path / "message"
    summary = run_environment(environment, message_file=message)
    assert message.read_text() == "Completed: Job completed successfully with no violations."
    assert features(tmp_path / "output" / "statistics.json")["Churn"] == aws_statistics()["features"][0]
    assert summary.item_count == 2333
    assert json.loads((tmp_path / "result.json").read_text()) == {
        "version": 1, "analysis_type": "DATA_QUALITY", "status": "Completed", "violations": 0,
        "violations_by_check": {}, "item_count": 2333, "bad_records": {}, "skipped_records": {}, "input_files": 1}


def test_environment_of_a_monitoring_execution_with_metrics(tmp_path, baseline):
    capture = write_capture(tmp_path / "endpointdata", [capture_line("25,a", "0.5")] * 3)
    metrics = tmp_path / "metrics"
    environment = {
        "dataset_format": '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}',
        "dataset_source": str(capture),
        "output_path": str(tmp_path / "result"),
        "baseline_constraints": str(baseline / "constraints.json"),
        "baseline_statistics": str(baseline / "statistics.json"),
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": "churn",
        "sagemaker_monitoring_schedule_name": "hourly",
        "start_time": "2022-03-24T00:00:00Z",
        "end_time": "2022-03-24T01:00:00Z",
        "CLOUDWATCH_METRICS_DIRECTORY": str(metrics),
    }
    message = tmp_path / "message"
    summary = run_environment(environment, message_file=message)
    assert message.read_text().startswith("CompletedWithViolations: Job completed successfully with")
    assert {p.name for p in (tmp_path / "result").iterdir()} == {
        "statistics.json", "constraints.json", "constraint_violations.json"}
    datums = [json.loads(line) for f in metrics.iterdir() for line in f.read_text().splitlines()]
    assert {"Name": "Endpoint", "Value": "churn"} in datums[0]["Dimensions"]
    assert any(d["MetricName"] == "feature_non_null_age" for d in datums)
    assert summary.item_count == 3
    # written once, from the result: the file is the result's lines; the status in result.json is the result's
    assert (metrics / "data-quality-metrics.jsonl").read_text().splitlines() == summary.result.metric_lines(
        endpoint="churn", schedule="hourly", metric_time="2022-03-24T00:00:00Z")
    assert [d["Value"] for d in datums if d["MetricName"].startswith("feature_baseline_drift_")] == list(
        summary.result.distances.values())
    written = json.loads((tmp_path / "result.json").read_text())
    assert written["status"] == "CompletedWithViolations" == summary.status
    assert written["violations"] == len(summary.violations) == int(message.read_text().split(" with ")[1].split()[0])


def test_the_metric_file_measures_drift_once(tmp_path, baseline, monkeypatch):
    from watchkeeper.analysis import distance

    calls = []
    measure = distance.numerical_distance
    monkeypatch.setattr(distance, "numerical_distance", lambda *a, **k: calls.append(1) or measure(*a, **k))
    capture = write_capture(tmp_path / "endpointdata", [capture_line(f"{30 + i % 9},a", "0.5") for i in range(50)])
    run_environment({
        "dataset_format": '{"sagemakerCaptureJson": {}}', "dataset_source": str(capture),
        "output_path": str(tmp_path / "result"), "baseline_constraints": str(baseline / "constraints.json"),
        "baseline_statistics": str(baseline / "statistics.json"), "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_monitoring_schedule_name": "hourly", "CLOUDWATCH_METRICS_DIRECTORY": str(tmp_path / "metrics"),
    }, message_file=tmp_path / "message")
    drift_lines = [line for line in (tmp_path / "metrics" / "data-quality-metrics.jsonl").read_text().splitlines()
                   if "feature_baseline_drift_" in line]
    # three drift lines (label, age numeric; city categorical); the two numeric distances computed once each
    # (before the typed result: age twice, for its verdict and for its metric)
    assert len(drift_lines) == 3 and len(calls) == 2


def test_environment_failures_write_the_message(tmp_path):
    message = tmp_path / "message"
    (tmp_path / "d.csv").write_text("a\n1\n")
    with pytest.raises(JobFailed, match=r"CloudWatch publishing is available only for jobs from MonitoringSchedules\."):
        run_environment({"dataset_format": '{"csv": {"header": true}}', "dataset_source": str(tmp_path / "d.csv"),
                         "output_path": str(tmp_path / "out"), "publish_cloudwatch_metrics": "Enabled"},
                        message_file=message)
    assert message.read_text() == "CloudWatch publishing is available only for jobs from MonitoringSchedules."
    assert json.loads((tmp_path / "result.json").read_text()) == {
        "version": 1, "status": "Failed",
        "failure_reason": "CloudWatch publishing is available only for jobs from MonitoringSchedules."}
    with pytest.raises(JobFailed, match="dataset_source"):
        run_environment({"dataset_format": "{}", "output_path": str(tmp_path)}, message_file=message)
    (tmp_path / "empty").mkdir()
    with pytest.raises(JobFailed, match="Job inputs had no data"):
        run_environment({"dataset_format": '{"sagemakerCaptureJson": {}}', "dataset_source": str(tmp_path / "empty"),
                         "output_path": str(tmp_path / "out")}, message_file=message)
    assert message.read_text() == "Job inputs had no data"
    assert json.loads((tmp_path / "result.json").read_text())["failure_reason"] == "Job inputs had no data"


@pytest.mark.parametrize(("value", "kind", "header", "lines"), [
    ('{"csv": {"header": true, "output_columns_position": "START"}}', "csv", True, True),
    ({"Csv": {"Header": False}}, "csv", False, True),
    ('{"json": {"line": false}}', "json", False, False),
    ('{"json": {"lines": true}}', "json", False, True),
    ('{"parquet": {}, "compression": "gzip"}', "parquet", False, True),
    ('{"sagemakerCaptureJson": {}}', "capture", False, True),
])
def test_dataset_format_spellings(value, kind, header, lines):
    fmt = DatasetFormat.parse(value)
    assert (fmt.kind, fmt.header, fmt.lines) == (kind, header, lines)


def test_unsupported_dataset_format():
    with pytest.raises(JobFailed, match="Unsupported dataset_format"):
        DatasetFormat.parse('{"avro": {}}')

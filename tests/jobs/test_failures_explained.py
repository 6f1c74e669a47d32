"""Failures that explain themselves: baselines of the wrong shape or encoding, windows of garbage, and
bad-record counts in the one-line message (ExitMessage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.jobs.test_builtin import CSV_HEADER, capture_line, write_capture
from watchkeeper.jobs.analyzers.data_quality import analyze, suggest_baseline
from watchkeeper.jobs.analyzers.model_quality import model_quality_job
from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.toolkit.summary import MAX_MESSAGE, JobFailed, with_bad_records


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    (tmp_path / "train.csv").write_text("label,age,city\n" + "".join(
        f"{i % 2},{20 + i % 30},{'ab'[i % 2]}\n" for i in range(200)))
    suggest_baseline(tmp_path / "train.csv", tmp_path / "baseline", CSV_HEADER)
    return tmp_path / "baseline"


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return write_capture(tmp_path / "capture", [capture_line(f"{20 + i},a", "1") for i in range(20)])


BAD_DOCUMENTS = [
    (b"[1, 2]", r'is not a constraints document: expected a JSON object with "features", got a list'),
    (b'{"version": 0.0}', r'expected a JSON object with "features", got an object without it \(keys: "version"\)'),
    (b'{"features": {"age": {}}}', r'"features" must be a list, got an object'),
    (b'{"features": ["age"]}', r'"features"\[0\] must be an object, got a string'),
    (b'{"features": [{"inferred_type": "Integral"}]}', r'"features"\[0\] has no "name" string'),
    (b'{"features": [], "monitoring_config": []}', r'"monitoring_config" must be an object, got a list'),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"is not UTF-8 text \(byte 0x89 at offset 0\): expected a JSON document"),
    ('{"features": [{"name": "größe"}]}'.encode("latin-1"), r"is not UTF-8 text \(byte 0xf6 at offset 26\)"),
    (b"{ not json", r"is not JSON: Expecting property name enclosed in double quotes at line 1 column 3"),
    (b"", r"is empty: expected a JSON document"),
]


@pytest.mark.parametrize(("content", "reason"), BAD_DOCUMENTS)
def test_a_bad_baseline_constraints_file_names_itself_and_what_is_wrong(
    tmp_path: Path, capture: Path, content: bytes, reason: str
) -> None:
    """Today: AttributeError: 'list' object has no attribute 'get', or a bare UnicodeDecodeError."""
    path = tmp_path / "constraints.json"
    path.write_bytes(content)
    with pytest.raises(JobFailed, match=rf"^ClientError: baseline constraints {path} .*{reason}"):
        analyze(capture, tmp_path / "report", baseline_constraints=path)


def test_a_bad_baseline_statistics_file_says_statistics(tmp_path: Path, capture: Path, baseline: Path) -> None:
    path = tmp_path / "statistics.json"
    path.write_text('{"version": 0.0, "dataset": {"item_count": 3}, "features": "age"}')
    with pytest.raises(JobFailed, match=rf'^ClientError: baseline statistics {path} is not a statistics document: '
                                        r'"features" must be a list, got a string$'):
        analyze(capture, tmp_path / "report", baseline_statistics=path,
                baseline_constraints=baseline / "constraints.json")


def test_the_message_file_names_the_file_as_the_job_sees_it(
    tmp_path: Path, capture: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the container contract the worker sees host paths below its job root; the reason says /opt/ml/..."""
    root = tmp_path / "job"
    baseline = root / "opt" / "ml" / "processing" / "baseline" / "constraints" / "constraints.json"
    baseline.parent.mkdir(parents=True)
    baseline.write_text("[]")
    monkeypatch.setenv("WATCHKEEPER_JOB_ROOT", str(root))
    message = tmp_path / "message"
    with pytest.raises(JobFailed):
        run_environment({"dataset_format": '{"sagemakerCaptureJson": {}}', "dataset_source": str(capture),
                         "output_path": str(tmp_path / "out"), "baseline_constraints": str(baseline)},
                        message_file=message)
    assert message.read_text() == (
        "ClientError: baseline constraints /opt/ml/processing/baseline/constraints/constraints.json is not a "
        'constraints document: expected a JSON object with "features", got a list'
    )


def test_constraint_values_of_the_wrong_type_name_the_baseline(tmp_path: Path, capture: Path, baseline: Path) -> None:
    constraints = json.loads((baseline / "constraints.json").read_text())
    constraints["features"][1]["completeness"] = "most of it"
    constraints["features"][1]["num_constraints"] = ["not", "an", "object"]
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps(constraints))
    try:
        analyze(capture, tmp_path / "report", baseline_statistics=baseline / "statistics.json",
                baseline_constraints=path)
    except JobFailed as error:
        assert str(error).startswith(f"ClientError: baseline statistics {baseline / 'statistics.json'} and "
                                     f"baseline constraints {path} could not be applied"), error
    # (or the checks tolerate these values: either way, no AttributeError/TypeError escapes)


def test_a_window_of_garbage_says_none_parseable(tmp_path: Path, baseline: Path) -> None:
    """Today: "Job inputs had no data"."""
    lines = ["not json"] * 3 + ['{"captureData": {}, "eventMetadata": {"inferenceTime": "2022-03-24T00:10:00Z"}}'] * 2
    lines += [capture_line("1,a", "0", time="2022-03-24T05:00:00Z")]  # outside the window: not counted
    source = write_capture(tmp_path / "capture", lines)
    with pytest.raises(JobFailed, match=r"^5 records in the window, none parseable: 3 not JSON, 2 no captured data$"):
        analyze(source, tmp_path / "report", baseline_constraints=baseline / "constraints.json",
                start_time="2022-03-24T00:00:00Z", end_time="2022-03-24T01:00:00Z")
    # A window that truly has no records keeps AWS's reason.
    valid = write_capture(tmp_path / "valid", [capture_line("1,a", "0", time="2022-03-24T05:00:00Z")])
    with pytest.raises(JobFailed, match=r"^Job inputs had no data$"):
        analyze(valid, tmp_path / "report", baseline_constraints=baseline / "constraints.json",
                start_time="2022-03-24T00:00:00Z", end_time="2022-03-24T01:00:00Z")


def test_a_garbage_dataset_says_none_parseable(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text("{broken\nnot json\n")
    with pytest.raises(JobFailed, match=r"^2 records in the input, none parseable: 2 not JSON$"):
        suggest_baseline(tmp_path / "d.jsonl", tmp_path / "out", {"json": {"lines": True}})


def test_bad_record_counts_are_in_the_completion_message(tmp_path: Path, baseline: Path) -> None:
    lines = [capture_line(f"{20 + i % 30},{'ab'[i % 2]}", str(i % 2)) for i in range(997)]
    lines += ["not json", "{also not", '{"captureData": {}, "eventMetadata": {"inferenceTime": "2022-03-24T00:10Z"}}']
    message = tmp_path / "message"
    summary = run_environment({"dataset_format": '{"sagemakerCaptureJson": {}}',
                               "dataset_source": str(write_capture(tmp_path / "capture", lines)),
                               "output_path": str(tmp_path / "out"),
                               "baseline_constraints": str(baseline / "constraints.json")}, message_file=message)
    assert summary.message == ("Completed: Job completed successfully with no violations. "
                               "3 of 1000 records could not be parsed (2 not JSON, 1 no captured data).")
    assert message.read_text() == summary.message


def test_the_message_stays_within_exit_messages_1024_characters() -> None:
    bad = {f"reason number {i} " + "x" * 60: 1000 + i for i in range(40)}
    bad["a reason far too long to repeat " + "y" * 5000] = 1
    message = with_bad_records("CompletedWithViolations: Job completed successfully with 7 violations.", bad, 5)
    assert len(message) <= MAX_MESSAGE
    assert message.startswith("CompletedWithViolations: Job completed successfully with 7 violations. ")
    assert message.endswith("for 35 other reasons (see the job log)).")


def test_model_quality_counts_and_bad_baseline(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("probability,prediction,label\n0.9,1,1\n0.2,0,0\n0.4,0,\n0.7,1,1\n")
    common = {"problem_type": "BinaryClassification", "ground_truth_attribute": "label",
              "inference_attribute": "prediction", "probability_attribute": "probability"}
    fmt = {"csv": {"header": True}}
    summary = model_quality_job(tmp_path / "d.csv", tmp_path / "o", fmt, **common)
    assert summary.message == ("Completed: Job completed successfully with no violations. "
                               "1 of 4 records could not be evaluated (1 ground truth is missing).")
    (tmp_path / "c.json").write_text("[]")
    with pytest.raises(JobFailed, match=rf"^ClientError: baseline constraints {tmp_path / 'c.json'} is not a "
                                        "model-quality constraints document: expected a JSON object"):
        model_quality_job(tmp_path / "d.csv", tmp_path / "o", fmt, baseline_constraints=tmp_path / "c.json", **common)
    (tmp_path / "c.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(JobFailed, match=r"is not UTF-8 text \(byte 0xff at offset 0\)"):
        model_quality_job(tmp_path / "d.csv", tmp_path / "o", fmt, baseline_constraints=tmp_path / "c.json", **common)


@pytest.mark.parametrize("value", ["{not json", "[1]", '{"csv": 3}'])
def test_a_bad_dataset_format_names_the_variable(value: str) -> None:
    from watchkeeper.jobs.toolkit.formats import DatasetFormat

    with pytest.raises(JobFailed, match=r"^ClientError: dataset_format "):
        DatasetFormat.parse(value)

"""Through boto3 and the real server: the built-in analyzer's failures and bad records explain themselves in
DescribeProcessingJob (FailureReason, ExitMessage)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.jobs.test_builtin import capture_line
from tests.monitoring.test_monitoring_flow import wait_for_job
from tests.monitoring.test_processing_jobs import analyzer_job
from tests.server_process import ServerProcess
from watchkeeper.jobs.analyzers.data_quality import suggest_baseline

CAPTURE_FORMAT = '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}'
CONSTRAINTS = "/opt/ml/processing/baseline/constraints/constraints.json"
STATISTICS = "/opt/ml/processing/baseline/stats/statistics.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("failures"), env=FAST_ENV).start()
    yield process
    process.stop()


def put(server: ServerProcess, uri: str, data: bytes) -> None:
    path = server.data_dir / "s3" / uri.removeprefix("s3://")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def capture_file(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def test_bad_baselines_and_garbage_windows_explain_themselves(server: ServerProcess, tmp_path: Path) -> None:
    sm = server.client()
    train = tmp_path / "train.csv"
    train.write_text("label,age,city\n" + "".join(f"{i % 2},{20 + i % 30},{'ab'[i % 2]}\n" for i in range(200)))
    suggest_baseline(train, tmp_path / "baseline", {"csv": {"header": True}})
    put(server, "s3://fx/baseline/good/constraints.json", (tmp_path / "baseline" / "constraints.json").read_bytes())
    put(server, "s3://fx/baseline/list/constraints.json", b"[]")
    put(server, "s3://fx/baseline/binary/statistics.json", b"\x89PNG\r\n\x1a\n\x00\x00")
    good = [capture_line(f"{20 + i % 30},{'ab'[i % 2]}", str(i % 2)) for i in range(40)]
    put(server, "s3://fx/capture/good/e/AllTraffic/2022/03/24/00/10-00-000-a.jsonl", capture_file(good))
    put(server, "s3://fx/capture/mixed/e/AllTraffic/2022/03/24/00/10-00-000-a.jsonl",
        capture_file([*good[:38], "not json", "{also not json"]))
    put(server, "s3://fx/capture/garbage/e/AllTraffic/2022/03/24/00/10-00-000-a.jsonl",
        capture_file(["not json", "\x00\x01 binary junk", '{"captureData": {}}', "[1, 2]"]))

    def job(name: str, capture: str, baseline: tuple[str, str, str] | None) -> None:
        environment = {"dataset_format": CAPTURE_FORMAT, "dataset_source": "/opt/ml/processing/input/endpoint",
                       "start_time": "2022-03-24T00:00:00Z", "end_time": "2022-03-24T01:00:00Z"}
        inputs = [("endpoint", f"s3://fx/capture/{capture}", "/opt/ml/processing/input/endpoint")]
        if baseline is not None:
            variable, uri, local = baseline
            environment[variable] = f"{local}/{uri.rsplit('/', 1)[1]}"
            inputs.append(("baseline", uri, local))
        sm.create_processing_job(**analyzer_job(name, environment, inputs))

    job("list-constraints", "good",
        ("baseline_constraints", "s3://fx/baseline/list/constraints.json", "/opt/ml/processing/baseline/constraints"))
    job("binary-statistics", "good",
        ("baseline_statistics", "s3://fx/baseline/binary/statistics.json", "/opt/ml/processing/baseline/stats"))
    job("garbage-window", "garbage",
        ("baseline_constraints", "s3://fx/baseline/good/constraints.json", "/opt/ml/processing/baseline/constraints"))
    job("some-bad-records", "mixed",
        ("baseline_constraints", "s3://fx/baseline/good/constraints.json", "/opt/ml/processing/baseline/constraints"))

    failed = {name: wait_for_job(sm, name) for name in ("list-constraints", "binary-statistics", "garbage-window")}
    for name, described in failed.items():
        assert described["ProcessingJobStatus"] == "Failed", (name, described.get("ExitMessage"))
        assert len(described["FailureReason"]) <= 1024
    assert (
        f"ClientError: baseline constraints {CONSTRAINTS} is not a constraints document: expected a JSON object "
        'with "features", got a list'
    ) in failed["list-constraints"]["FailureReason"]
    assert (
        f"ClientError: baseline statistics {STATISTICS} is not UTF-8 text (byte 0x89 at offset 0)"
    ) in failed["binary-statistics"]["FailureReason"]
    reason = failed["garbage-window"]["FailureReason"]
    assert "4 records in the window, none parseable: 3 not JSON, 1 no inferenceTime" in reason, reason
    assert "Job inputs had no data" not in reason

    described = wait_for_job(sm, "some-bad-records")
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ExitMessage"] == (
        "Completed: Job completed successfully with no violations. "
        "2 of 40 records could not be parsed (2 not JSON)."
    )
    listed = sm.list_processing_jobs(NameContains="some-bad-records")["ProcessingJobSummaries"]
    assert listed[0]["ExitMessage"] == described["ExitMessage"]

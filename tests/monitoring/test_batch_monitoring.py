"""Batch-transform monitoring on capture laid out as AWS lays it: manifests in the capture hour folders name
the transform's objects, which live elsewhere; the execution stages and analyses those objects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson

from tests.endpoint_helpers import FAST_ENV
from tests.monitoring.test_monitoring_flow import ANALYZER, ROLE
from tests.server_process import ServerProcess

HOUR = "2026/01/10/05"


def csv_rows(rng: np.random.Generator, n: int) -> str:
    values = np.column_stack([rng.integers(0, 100, n), rng.normal(50, 5, n).round(3), rng.integers(0, 3, n)])
    return "".join(f"{int(a)},{b},{int(c)}\n" for a, b, c in values)


def write(server: ServerProcess, uri: str, data: str | bytes) -> None:
    path = server.data_dir / "s3" / uri.removeprefix("s3://")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchkeeper", *args, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_batch_capture_manifests_are_followed_end_to_end(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env=FAST_ENV).start()
    try:
        rng = np.random.default_rng(7)
        baseline_csv = tmp_path / "baseline.csv"
        baseline_csv.write_text(csv_rows(rng, 500))
        made = cli(server, "baseline", "--dataset", str(baseline_csv), "--format", "csv",
                   "--output", str(server.data_dir / "s3/bt/baseline"))
        assert made.returncode == 0, made.stderr
        # The transform's own input and output objects, outside the capture destination.
        parts = [csv_rows(rng, 40), csv_rows(rng, 35)]
        for index, part in enumerate(parts):
            write(server, f"s3://bt/transform-in/part-{index}.csv", part)
            write(server, f"s3://bt/transform-out/part-{index}.csv.out", "0.5\n" * part.count("\n"))
        # AWS's batch capture: only manifests, under input/ and output/ of the capture hour.
        write(server, f"s3://bt/capture/input/{HOUR}/3b1c-manifest",
              orjson.dumps([{"prefix": "s3://bt/transform-in/"}, "part-0.csv", "part-1.csv"]))
        write(server, f"s3://bt/capture/output/{HOUR}/3b1c-manifest",
              orjson.dumps([{"prefix": "s3://bt/transform-out/"}, "part-0.csv.out", "part-1.csv.out"]))
        sm = server.client()
        sm.create_monitoring_schedule(
            MonitoringScheduleName="batch-hourly",
            MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": {
                    "BaselineConfig": {
                        "ConstraintsResource": {"S3Uri": "s3://bt/baseline/constraints.json"},
                        "StatisticsResource": {"S3Uri": "s3://bt/baseline/statistics.json"},
                    },
                    "MonitoringInputs": [{"BatchTransformInput": {
                        "DataCapturedDestinationS3Uri": "s3://bt/capture",
                        "LocalPath": "/opt/ml/processing/input",
                        "DatasetFormat": {"Csv": {"Header": False}},
                    }}],
                    "MonitoringOutputConfig": {"MonitoringOutputs": [
                        {"S3Output": {"S3Uri": "s3://bt/reports", "LocalPath": "/opt/ml/processing/output"}}
                    ]},
                    "MonitoringResources": {
                        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
                    },
                    "MonitoringAppSpecification": {"ImageUri": ANALYZER},
                    "RoleArn": ROLE,
                },
            },
        )
        run = cli(server, "run", "batch-hourly", "--start", "2026-01-10T05:00:00Z", "--end", "2026-01-10T06:00:00Z")
        assert run.returncode == 0, run.stdout + run.stderr
        report = run.stdout.split("Reports: ")[1].strip()
        folder = server.data_dir / "s3" / report.removeprefix("s3://")
        stats = orjson.loads((folder / "statistics.json").read_bytes())
        assert stats["dataset"]["item_count"] == 75  # the rows of the named input objects, not the manifests
        violations = orjson.loads((folder / "constraint_violations.json").read_bytes())["violations"]
        assert violations == []
    finally:
        server.stop()

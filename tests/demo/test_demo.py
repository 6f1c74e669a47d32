"""`watchkeeper demo` as a newcomer runs it: one command, the whole loop, the dashboard left open.

The numbers are checked against what the demo really sent: the capture files it left in its data folder,
compared with the bundled training set by an independent numpy computation of each feature's drift.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.server_process import ServerProcess, free_port

DATASET = Path(__file__).resolve().parents[2] / "src" / "watchkeeper" / "demo" / "customers.csv"
COLUMNS = ("age", "monthly_charges", "tenure_months", "support_calls")

pytestmark = pytest.mark.slow  # 20 s or more: started first under xdist (tests/conftest.py)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    data_dir = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "watchkeeper", "demo", "--port", str(free_port()), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    started = time.monotonic()
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("The server keeps running"):
                break
        elapsed = time.monotonic() - started
        output = "\n".join(lines)
        assert lines and lines[-1].startswith("The server keeps running"), output
        dashboard = re.search(r"dashboard:\s+(\S+)", output)
        assert dashboard, output
        # The dashboard is served while the demo waits for Ctrl-C.
        page = httpx.get(dashboard.group(1), timeout=10)
        yield {"output": output, "data_dir": data_dir, "elapsed": elapsed, "page": page}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0


def read_capture(data_dir: Path) -> np.ndarray:
    files = sorted((data_dir / "s3" / "watchkeeper-demo" / "churn-demo" / "capture").rglob("*.jsonl"))
    rows = [
        json.loads(line)["captureData"]["endpointInput"]["data"] for f in files for line in f.read_text().splitlines()
    ]
    return np.array([[float(v) for v in row.split(",")[:4]] for row in rows])


def linf(baseline: np.ndarray, current: np.ndarray) -> float:
    """The largest gap between the two empirical CDFs (the two-sample Kolmogorov-Smirnov statistic)."""
    points = np.union1d(baseline, current)
    cdf = lambda x: np.searchsorted(np.sort(x), points, side="right") / x.size  # noqa: E731
    return float(np.max(np.abs(cdf(baseline) - cdf(current))))


def test_the_bundled_dataset_is_small() -> None:
    assert DATASET.stat().st_size <= 200 * 1024


def test_demo_runs_the_loop_and_leaves_the_dashboard_open(demo: dict[str, object]) -> None:
    output, data_dir = str(demo["output"]), Path(str(demo["data_dir"]))
    assert float(demo["elapsed"]) < 90, output  # under a minute on a quiet machine; CI's 2 shared cores get slack
    page = demo["page"]
    assert isinstance(page, httpx.Response) and page.status_code == 200 and "churn-demo" in page.text
    assert "CompletedWithViolations" in output

    baseline = np.loadtxt(DATASET, delimiter=",", skiprows=1, usecols=(1, 2, 3, 4))
    captured = read_capture(data_dir)
    assert captured.shape == (300, 4)
    statistics = json.loads(next((data_dir / "s3").rglob("baseline/statistics.json")).read_text())
    assert statistics["dataset"]["item_count"] == baseline.shape[0]

    report = next((data_dir / "s3" / "watchkeeper-demo" / "churn-demo" / "reports").rglob("constraint_violations.json"))
    violations = json.loads(report.read_text())["violations"]
    drifted = {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"}
    # Each numeric feature's drift, computed here from what was sent: the two-sample Kolmogorov-Smirnov gap
    # less its noise allowance, Deequ's Robust distance (c(alpha) = 1.8). The analyzer computes it on KLL
    # sketches, which are exact at these sizes; the CloudWatch metric it published is the same number.
    metrics = dict(re.findall(r"(\w+) ([0-9.]+)", output.split("baseline drift per feature:", 1)[1].splitlines()[0]))
    n, m = baseline.shape[0], captured.shape[0]
    for i, name in enumerate(COLUMNS):
        expected = max(0.0, linf(baseline[:, i], captured[:, i]) - 1.8 * np.sqrt((n + m) / (n * m)))
        assert float(metrics[name]) == pytest.approx(expected, abs=2e-3), name
        if abs(expected - 0.1) > 0.01:  # the default comparison threshold
            assert (name in drifted) == (expected > 0.1), (name, expected)
    for violation in violations:
        # The report's distance is the one the CloudWatch API serves for that feature.
        shown = re.search(r"distance: ([0-9.]+)", violation["description"])
        assert shown and float(metrics[violation["feature_name"]]) == pytest.approx(float(shown.group(1)), abs=5e-4)
    assert {"monthly_charges", "support_calls"} <= drifted  # the two the demo moves most
    assert "plan" in drifted  # every drifted request is on the basic plan
    assert "churn_probability" in drifted  # and the model's answers moved with them


def test_demo_against_a_running_server_with_keys(tmp_path: Path) -> None:
    """--endpoint-url: a server already running (`make run`), here with an auth file; the demo signs with the
    environment's keys and everything, the training set included, goes through the API."""
    keys = {"team": ("AKIADEMOTEST00001", "demo-test-secret", "123456789012")}
    server = ServerProcess(tmp_path / "server", keys=keys).start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHKEEPER_", "AWS_"))}
        env |= {"AWS_ACCESS_KEY_ID": keys["team"][0], "AWS_SECRET_ACCESS_KEY": keys["team"][1]}
        done = subprocess.run(
            [sys.executable, "-m", "watchkeeper", "demo", "--endpoint-url", server.url],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        name = re.search(r"schedule (churn-demo-\d{6}):", done.stdout)
        assert name, done.stdout
        described = server.client().describe_monitoring_schedule(MonitoringScheduleName=name.group(1))
        assert described["LastMonitoringExecutionSummary"]["MonitoringExecutionStatus"] == "CompletedWithViolations"
        assert (server.data_dir / "s3" / "watchkeeper-demo" / name.group(1) / "train" / "baseline.csv").exists()
    finally:
        server.stop()

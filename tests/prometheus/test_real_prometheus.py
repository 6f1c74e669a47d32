"""A real Prometheus (Debian's `prometheus`, installed by .ci/run) scrapes Watchkeeper with the bearer token,
and a drift value put through the boto3 `cloudwatch` client is read back through Prometheus's HTTP API."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.prometheus.test_metrics_endpoint import ALICE, DATA_METRICS, TOKEN, put_drift
from tests.server_process import ServerProcess, free_port
from tests.waiting import poll

SCRAPE_CONFIG = """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: watchkeeper
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def prometheus_binary() -> str:
    found = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
    assert found, "Prometheus is not installed: `apt-get install -y prometheus` (.ci/run does it when root)"
    return found


def query(url: str, expression: str) -> list[dict[str, Any]]:
    try:
        response = httpx.get(f"{url}/api/v1/query", params={"query": expression}, timeout=5)
    except httpx.HTTPError:
        return []
    if response.status_code != 200:
        return []
    return response.json()["data"]["result"]


def test_prometheus_reads_a_drift_value_back(tmp_path: Path) -> None:
    binary = prometheus_binary()
    server = ServerProcess(
        tmp_path / "data", env={"WATCHKEEPER_METRICS_TOKEN": TOKEN}, keys={"alice": ALICE}
    ).start()
    prometheus: subprocess.Popen[bytes] | None = None
    log_path = tmp_path / "prometheus.log"
    try:
        put_drift(server, ALICE[:2], "age", 0.4375, "churn")
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN, encoding="utf-8")
        config = tmp_path / "prometheus.yml"
        config.write_text(SCRAPE_CONFIG.format(token_file=token_file, port=server.port), encoding="utf-8")
        port = free_port()
        with open(log_path, "wb") as log:
            prometheus = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        expression = 'watchkeeper_feature_baseline_drift{feature="age",endpoint="churn"}'
        result = poll(lambda: query(url, expression), timeout=60, interval=0.5)
        assert prometheus.poll() is None, log_path.read_text()[-3000:]
        assert result, f"Prometheus returned nothing for {expression}: {log_path.read_text()[-3000:]}"
        (sample,) = result
        assert float(sample["value"][1]) == 0.4375
        assert sample["metric"]["monitoring_schedule"] == "churn-hourly"
        assert sample["metric"]["namespace"] == DATA_METRICS
        assert sample["metric"]["account"] == ALICE[2]
        up = query(url, 'up{job="watchkeeper"}')
        assert up and up[0]["value"][1] == "1", up  # the scrape itself authenticated and parsed
    finally:
        if prometheus is not None and prometheus.poll() is None:
            prometheus.terminate()
            try:
                prometheus.wait(timeout=15)
            except subprocess.TimeoutExpired:
                prometheus.kill()
                prometheus.wait()
        server.stop()

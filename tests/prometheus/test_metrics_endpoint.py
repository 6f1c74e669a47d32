"""GET /metrics on the real server with keys: the scrape token, SigV4 per account, refusals, and what it shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess
from tests.signing import SigV4

ALICE = ("AKIAALICE000000001", "alice-secret-key-0123456789", "111111111111")
BOB = ("AKIABOB00000000002", "bob-secret-key-9876543210", "222222222222")
TOKEN = "scrape-token-0123456789abcdef"
DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"


def put_drift(server: ServerProcess, keys: tuple[str, str], feature: str, value: float, endpoint: str) -> None:
    cw = server.client("cloudwatch", keys=keys)
    cw.put_metric_data(
        Namespace=DATA_METRICS,
        MetricData=[
            {
                "MetricName": f"feature_baseline_drift_{feature}",
                "Dimensions": [
                    {"Name": "Endpoint", "Value": endpoint},
                    {"Name": "MonitoringSchedule", "Value": f"{endpoint}-hourly"},
                ],
                "Timestamp": datetime.now(UTC),
                "Value": value,
            }
        ],
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("prometheus"),
        env={**FAST_ENV, "WATCHKEEPER_METRICS_TOKEN": TOKEN},
        keys={"alice": ALICE, "bob": BOB},
    ).start()
    put_drift(process, ALICE[:2], 'age "years"', 0.25, "churn")
    put_drift(process, BOB[:2], "income", 0.75, "loans")
    yield process
    process.stop()


def test_the_token_sees_every_account_and_the_process(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert (
        'watchkeeper_feature_baseline_drift{account="111111111111",region="us-east-1",namespace="'
        + DATA_METRICS
        + '",feature="age \\"years\\"",endpoint="churn",monitoring_schedule="churn-hourly"} 0.25\n'
    ) in text
    assert 'feature="income",endpoint="loans"' in text
    assert "watchkeeper_scheduler_lag_seconds 0\n" in text
    assert 'watchkeeper_capture_records_total{outcome="accepted"} 0\n' in text
    assert 'watchkeeper_api_request_duration_seconds_count{api="cloudwatch"} ' in text


def test_a_signed_caller_sees_its_own_account_only(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/metrics", auth=SigV4(BOB[:2]))
    assert response.status_code == 200, response.text
    assert 'feature="income"' in response.text
    assert "111111111111" not in response.text
    assert "watchkeeper_capture_records_total" not in response.text  # process-wide: the operator's


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
    ],
)
def test_without_the_token_or_a_signature_it_is_refused(server: ServerProcess, headers: dict[str, str]) -> None:
    response = httpx.get(f"{server.url}/metrics", headers=headers)
    assert response.status_code in (400, 403), response.text
    assert "watchkeeper_" not in response.text


def test_the_token_opens_nothing_else(server: ServerProcess) -> None:
    response = httpx.post(
        f"{server.url}/",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Amz-Target": "SageMaker.ListMonitoringSchedules"},
        content=b"{}",
    )
    assert response.status_code in (400, 403)

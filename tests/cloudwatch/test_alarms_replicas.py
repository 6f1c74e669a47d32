"""Two server processes (replicas) on one database: each evaluates every alarm and runs the delivery loop,
yet the webhook receives exactly one message per transition; a restarted replica sends nothing again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cloudwatch.conftest import ALICE
from tests.cloudwatch.test_alarms import GOOD_TOPIC, Receiver, alarm, state_of, wait_for
from tests.endpoint_helpers import FAST_ENV
from tests.server_process import ServerProcess


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[list[ServerProcess]]:
    data_dir: Path = tmp_path_factory.mktemp("replicas")
    env = {
        **FAST_ENV,
        "WATCHKEEPER_ALARM_EVALUATION_SECONDS": "0.2",
        "WATCHKEEPER_ALARM_WEBHOOKS": f"{GOOD_TOPIC}={receiver.url}/hook",
    }
    servers = [ServerProcess(data_dir, env=env, keys={"alice": ALICE}).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


def test_two_replicas_send_one_message_per_transition(replicas: list[ServerProcess], receiver: Receiver) -> None:
    first, second = (server.client("cloudwatch", keys=ALICE[:2]) for server in replicas)
    # One timestamp for both datapoints: one period, even across a minute (test_alarms.py's evaluation test).
    config = alarm("replicated", AlarmActions=[GOOD_TOPIC], OKActions=[GOOD_TOPIC], TreatMissingData="ignore")
    first.put_metric_alarm(**config)
    datum: dict[str, Any] = {"MetricName": "drift", "Dimensions": config["Dimensions"], "Timestamp": datetime.now(UTC)}
    second.put_metric_data(Namespace="Test/Alarms", MetricData=[{**datum, "Value": 10.0}])
    assert wait_for(lambda: state_of(first, "replicated") == "ALARM", 5)
    first.put_metric_data(Namespace="Test/Alarms", MetricData=[{**datum, "Values": [0.0], "Counts": [99.0]}])
    assert wait_for(lambda: state_of(second, "replicated") == "OK", 5)
    assert wait_for(lambda: len(receiver.texts("/hook", "replicated")) == 2, 5)
    # A restarted replica finds every notification delivered: nothing is sent again.
    replicas[0].stop()
    replicas[0].start()
    time.sleep(1.5)
    texts = receiver.texts("/hook", "replicated")
    assert len(texts) == 2 and "*ALARM*" in texts[0] and "*OK*" in texts[1]
    history = second.describe_alarm_history(AlarmName="replicated", HistoryItemType="StateUpdate")
    assert len(history["AlarmHistoryItems"]) == 2
    actions = first.describe_alarm_history(AlarmName="replicated", HistoryItemType="Action")
    assert len(actions["AlarmHistoryItems"]) == 2

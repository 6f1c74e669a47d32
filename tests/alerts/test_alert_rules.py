"""The alert rules alone: AWS's documented example and note, the topic settings and their routing."""

from __future__ import annotations

import pytest

from watchkeeper.errors import ValidationError
from watchkeeper.services.monitoring_alert_rules import (
    alert_names,
    check_update,
    parse_alert_topics,
    topics_of,
    verdict,
)

OPS = "arn:aws:sns:us-east-1:123456789012:ml-ops"


def test_fewer_executions_than_the_evaluation_period_can_alert() -> None:
    # AWS's note: with Evaluation period 3 and Datapoints to alert 2, the first two executions failing alert.
    assert verdict(["CompletedWithViolations"], 2, 3).status == "OK"
    assert verdict(["Failed", "CompletedWithViolations"], 2, 3).status == "InAlert"
    # Only the latest EvaluationPeriod count (newest first): the old failures fall out of the window.
    seen = verdict(["Completed", "Completed", "CompletedWithViolations", "Failed"], 2, 3)
    assert (seen.status, seen.failures, seen.considered) == ("OK", 1, 3)
    assert verdict([], 1, 1).status == "OK"


def test_update_rule_and_names() -> None:
    check_update(3, 3)
    with pytest.raises(ValidationError, match=r"DatapointsToAlert \(4\) must be less than or equal to "
                                              r"EvaluationPeriod \(3\)"):
        check_update(4, 3)
    assert alert_names("ModelQuality") == ["ModelQualityAlert"] and alert_names(None) == ["DataQualityAlert"]


def test_topic_settings() -> None:
    assert parse_alert_topics("", {}) == ()
    assert parse_alert_topics(f" {OPS} ,{OPS}", {OPS: "http://127.0.0.1/h"}) == (OPS,)
    with pytest.raises(ValueError, match="has no webhook"):
        parse_alert_topics(OPS, {})
    with pytest.raises(ValueError, match="is not an SNS topic ARN"):
        parse_alert_topics("arn:aws:sqs:us-east-1:123456789012:q", {})
    other_region = "arn:aws:sns:eu-west-1:123456789012:ml-ops"
    other_account = "arn:aws:sns:us-east-1:222222222222:ml-ops"
    assert topics_of([OPS, other_region, other_account], "123456789012", "us-east-1") == [OPS]

"""AddTags / ListTags / DeleteTags on schedules and job definitions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import hourly_config


def test_tags_at_create_then_add_overwrite_list_delete(sm: Any, name: str) -> None:
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig=hourly_config(),
        Tags=[{"Key": "env", "Value": "prod"}],
    )["MonitoringScheduleArn"]
    added = sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "risk"}, {"Key": "env", "Value": "staging"}])
    assert added["Tags"] == [{"Key": "team", "Value": "risk"}, {"Key": "env", "Value": "staging"}]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "staging"},
        {"Key": "team", "Value": "risk"},
    ]
    sm.delete_tags(ResourceArn=arn, TagKeys=["env", "absent"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "risk"}]


def test_list_tags_paginates(sm: Any, name: str) -> None:
    tags = [{"Key": f"k{i:02d}", "Value": str(i)} for i in range(50)]
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config(), Tags=tags
    )["MonitoringScheduleArn"]
    pages = list(sm.get_paginator("list_tags").paginate(ResourceArn=arn, PaginationConfig={"PageSize": 50}))
    assert [t for page in pages for t in page["Tags"]] == tags


def test_more_than_fifty_tags_is_rejected_and_changes_nothing(sm: Any, name: str) -> None:
    tags = [{"Key": f"k{i}", "Value": ""} for i in range(50)]
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config(), Tags=tags
    )["MonitoringScheduleArn"]
    with pytest.raises(ClientError) as excinfo:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "x"}])
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert len(sm.list_tags(ResourceArn=arn, MaxResults=100)["Tags"]) == 50


def test_tags_on_unknown_resource(sm: Any, name: str) -> None:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{name}"
    for call in (
        lambda: sm.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "b"}]),
        lambda: sm.list_tags(ResourceArn=arn),
        lambda: sm.delete_tags(ResourceArn=arn, TagKeys=["a"]),
    ):
        with pytest.raises(sm.exceptions.ResourceNotFound) as excinfo:
            call()
        assert arn in excinfo.value.response["Error"]["Message"]


def test_deleting_a_schedule_drops_its_tags(sm: Any, name: str) -> None:
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig=hourly_config(),
        Tags=[{"Key": "a", "Value": "1"}],
    )["MonitoringScheduleArn"]
    sm.delete_monitoring_schedule(MonitoringScheduleName=name)
    sm.create_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=hourly_config())
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []

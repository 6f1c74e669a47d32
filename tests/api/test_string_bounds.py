"""No string member can cause a 5xx: strings the model leaves unbounded are held to 1024 characters, and
NameContains matches `%`, `_` and `\\` as themselves (boto3 against the real server; SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import job_definition_request
from watchkeeper.api.validation import MAX_UNMODELLED_STRING
from watchkeeper.clock import FakeClock
from watchkeeper.config import Settings
from watchkeeper.errors import ValidationError
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext

CTX = RequestContext("123456789012", "us-east-1")


def processing_job(name: str) -> dict[str, Any]:
    """A job that needs nothing run: no ContainerEntrypoint, so it fails at once with a reason."""
    return {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_a_huge_name_contains_is_a_validation_error_not_a_500(sm: Any) -> None:
    for size in (60_000, MAX_UNMODELLED_STRING + 1, 25_001):
        with pytest.raises(ClientError) as excinfo:
            sm.list_processing_jobs(NameContains="%" * size)
        status, code, message = error(excinfo)
        assert (status, code) == (400, "ValidationException")
        assert "nameContains" in message and f"less than or equal to {MAX_UNMODELLED_STRING}" in message
        assert len(message) < 1024
    # At the bound, the search runs (and finds nothing).
    assert sm.list_processing_jobs(NameContains="%_\\" * (MAX_UNMODELLED_STRING // 3))["ProcessingJobSummaries"] == []


def test_other_unbounded_strings_are_bounded_too(sm: Any, name: str) -> None:
    request = job_definition_request("DataQuality", name)
    request["DataQualityJobInput"]["EndpointInput"]["FeaturesAttribute"] = "f" * (MAX_UNMODELLED_STRING + 1)
    with pytest.raises(ClientError) as excinfo:
        sm.create_data_quality_job_definition(**request)
    status, code, message = error(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert "featuresAttribute" in message
    request["DataQualityJobInput"]["EndpointInput"]["FeaturesAttribute"] = "f" * MAX_UNMODELLED_STRING
    sm.create_data_quality_job_definition(**request)


def test_name_contains_wildcards_match_themselves(sm: Any, name: str) -> None:
    for suffix in ("alpha", "beta"):
        sm.create_processing_job(**processing_job(f"{name}-{suffix}"))

    def names(fragment: str) -> set[str]:
        pages = sm.get_paginator("list_processing_jobs").paginate(NameContains=fragment)
        return {s["ProcessingJobName"] for page in pages for s in page["ProcessingJobSummaries"]}

    assert names(f"{name}-") == {f"{name}-alpha", f"{name}-beta"}
    assert names(f"{name.upper()}-AL") == {f"{name}-alpha"}
    for fragment in ("%", "_", "\\", "%%", f"{name}%", f"{name}_alpha", f"{name}-%a", "\\%", "[a]"):
        assert names(fragment) == set(), fragment


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = dataclasses.replace(Settings(), data_dir=tmp_path / "data", database_url=url)
    built = Services.build(settings, FakeClock(1_700_000_000.0))
    yield built
    built.close()


def test_name_contains_on_both_databases(services: Services) -> None:
    prefix = f"like-{id(services) % 10_000}"
    for suffix in ("alpha", "beta"):
        services.processing_jobs.create(CTX, processing_job(f"{prefix}-{suffix}"))

    def names(fragment: str) -> set[str]:
        listed = services.processing_jobs.list(CTX, {"NameContains": fragment, "MaxResults": 100})
        return {s["ProcessingJobName"] for s in listed["ProcessingJobSummaries"]} & {
            f"{prefix}-alpha",
            f"{prefix}-beta",
        }

    assert names(f"{prefix}-") == {f"{prefix}-alpha", f"{prefix}-beta"}
    assert names("ALPHA") == {f"{prefix}-alpha"}
    for fragment in ("%", "_", "\\", f"{prefix}%", f"{prefix}_alpha", "\\%", "\\_", "%" * 1024):
        assert names(fragment) == set(), fragment
    # Beyond SQLite's LIKE limit, even a caller that skipped the API's bound gets a ValidationError.
    with pytest.raises(ValidationError):
        names("%" * 30_000)

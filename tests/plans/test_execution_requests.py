"""The processing-job requests each type's plan builds, from one ExecutionInputs: pure, no store."""

from __future__ import annotations

import pytest

from tests.api.conftest import data_quality_definition
from tests.plans.conftest import t
from watchkeeper.scheduling.execution_jobs import CannotPlan, CaptureSource, ExecutionInputs
from watchkeeper.scheduling.fire_times import Window
from watchkeeper.services.monitoring_types import BY_NAME

CAPTURE = CaptureSource("s3://bucket/capture", "churn-endpoint", ("AllTraffic",))
WINDOW = Window(t("2026-03-01T00:00:00"), t("2026-03-01T01:00:00"))


def model_quality_definition(**input_overrides: object) -> dict:
    definition = data_quality_definition()
    definition["MonitoringInputs"][0]["EndpointInput"]["ProbabilityAttribute"] = "0"
    definition["MonitoringInputs"][0]["GroundTruthS3Input"] = {"S3Uri": "s3://bucket/ground-truth"}
    definition["MonitoringInputs"][0].update(input_overrides)
    definition["MonitoringAppSpecification"]["ProblemType"] = "BinaryClassification"
    return definition


def inputs(kind: str, definition: dict, capture: CaptureSource | None = CAPTURE) -> ExecutionInputs:
    return ExecutionInputs.of(kind, definition, "hourly", t("2026-03-01T03:00:00"), WINDOW, capture)


def requests(kind: str, definition: dict, capture: CaptureSource | None = CAPTURE) -> list[dict]:
    built = inputs(kind, definition, capture)
    return [job.build(built) for job in BY_NAME[kind].plan if job.build is not None]


def test_each_type_declares_its_plan() -> None:
    plans = {name: [job.role for job in kind.plan] for name, kind in BY_NAME.items()}
    assert plans == {
        "DataQuality": ["analysis"],
        "ModelQuality": ["ground-truth merge", "analysis"],
        "ModelBias": ["ground-truth merge", "bias analysis"],
        "ModelExplainability": ["explainability analysis"],
    }
    assert {name: kind.runnable for name, kind in BY_NAME.items()} == {
        "DataQuality": True, "ModelQuality": True, "ModelBias": True, "ModelExplainability": True,
    }
    assert BY_NAME["ModelQuality"].max_runtime(3600) == 1800 and BY_NAME["DataQuality"].max_runtime(3600) == 3600


def test_data_quality_analyses_the_window_hours_of_each_variant() -> None:
    (request,) = requests("DataQuality", data_quality_definition())
    assert request["ProcessingJobName"].startswith("model-monitoring-202603010300-")
    assert [i["S3Input"]["S3Uri"] for i in request["ProcessingInputs"][:1]] == [
        "s3://bucket/capture/churn-endpoint/AllTraffic/2026/03/01/00"
    ]
    assert request["Environment"]["start_time"] == "2026-03-01T00:00:00Z"
    out = request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert out == "s3://bucket/reports/churn-endpoint/hourly/2026/03/01/03"


def test_model_quality_merge_then_analysis_of_the_merged_records() -> None:
    merge, analysis = requests("ModelQuality", model_quality_definition())
    suffix = merge["ProcessingJobName"].removeprefix("groundtruth-merge-")
    assert analysis["ProcessingJobName"] == f"model-quality-monitoring-{suffix}"
    merged = merge["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert merged == "s3://bucket/reports/merge"
    # labels are read from the window's start up to the fire time: hours 00, 01, 02
    truth = [i["S3Input"]["S3Uri"] for i in merge["ProcessingInputs"] if i["InputName"].startswith("groundtruth")]
    assert truth == [f"s3://bucket/ground-truth/2026/03/01/0{h}" for h in range(3)]
    analysed = [i["S3Input"]["S3Uri"] for i in analysis["ProcessingInputs"] if i["InputName"].startswith("endpoint")]
    assert analysed == ["s3://bucket/reports/merge/churn-endpoint/AllTraffic/2026/03/01/00"]
    assert analysis["Environment"]["problem_type"] == "BinaryClassification"
    assert analysis["Environment"]["probability_attribute"] == "0"


def test_what_a_plan_cannot_build_is_the_execution_s_failure_reason() -> None:
    with pytest.raises(CannotPlan, match="A ModelQuality schedule needs a GroundTruthS3Input"):
        requests("ModelQuality", model_quality_definition(GroundTruthS3Input={}))
    with pytest.raises(CannotPlan, match="needs an endpoint input whose endpoint captures its traffic"):
        requests("ModelQuality", model_quality_definition(), capture=None)

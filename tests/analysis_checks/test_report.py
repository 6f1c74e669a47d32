"""The violations document, the one-line completion message and the CloudWatch metric lines."""

from __future__ import annotations

import json

from tests.analysis_checks.documents import (
    constraint,
    constraints,
    numeric_feature,
    statistics,
    string_feature,
    unknown_feature,
)
from watchkeeper.analysis.checks import find_violations
from watchkeeper.analysis.drift import distances, measure_drift
from watchkeeper.analysis.report import completion_message, metric_lines, status_of, violations_document

TYPE = {
    "feature_name": "Churn",
    "constraint_check_type": "data_type_check",
    "description": "Data type match requirement is not met. Expected data type: Integral, "
    "Expected match: 100.0%. Observed: Only 0.0% of data is Integral.",
}


def test_violations_document_has_only_a_violations_list_in_aws_key_order():
    shuffled = {"description": "d", "constraint_check_type": "extra_column_check", "feature_name": "f"}
    document = violations_document([shuffled, TYPE])
    assert list(document) == ["violations"]
    assert list(document["violations"][0]) == ["feature_name", "constraint_check_type", "description"]
    assert document["violations"][1] == TYPE
    assert violations_document([]) == {"violations": []}


def test_completion_messages_are_the_real_exit_messages():
    assert completion_message([]) == "Completed: Job completed successfully with no violations."
    assert completion_message([TYPE] * 60) == (
        "CompletedWithViolations: Job completed successfully with 60 violations."
    )
    assert (
        completion_message([TYPE]) == "CompletedWithViolations: Job completed successfully with 1 violations."
    )
    assert completion_message(60) == completion_message([TYPE] * 60)
    assert completion_message(0) == completion_message([])


def test_the_status_is_the_first_word_of_the_message():
    for count in (0, 1, 60):
        assert completion_message(count).split(":")[0] == status_of(count)
    assert (status_of(0), status_of(3)) == ("Completed", "CompletedWithViolations")


def window():
    return statistics(
        numeric_feature("Day Mins", [[1.5, 2.5, 4.0], [3.0]], missing=1),
        string_feature("plan", {"a": 3, "b": 1}),
        unknown_feature("empty", 5),
    )


def test_metric_lines_for_an_endpoint_schedule():
    lines = metric_lines(
        window(),
        {"Day Mins": 0.2711598746081505},
        endpoint="churn-ep",
        schedule="churn-hourly",
        metric_time="2019-11-26T03:00:00Z",
    )
    dims = [
        {"Name": "Endpoint", "Value": "churn-ep"},
        {"Name": "MonitoringSchedule", "Value": "churn-hourly"},
    ]
    assert [json.loads(line) for line in lines] == [
        {
            "MetricName": "feature_data_Day Mins",
            "Timestamp": "2019-11-26T03:00:00Z",
            "Dimensions": dims,
            "StatisticValues": {"SampleCount": 5.0, "Sum": 14.0, "Minimum": 1.5, "Maximum": 4.0},
        },
        {
            "MetricName": "feature_non_null_Day Mins",
            "Timestamp": "2019-11-26T03:00:00Z",
            "Dimensions": dims,
            "Value": 5 / 6,
        },
        {
            "MetricName": "feature_baseline_drift_Day Mins",
            "Timestamp": "2019-11-26T03:00:00Z",
            "Dimensions": dims,
            "Value": 0.2711598746081505,
        },
        {
            "MetricName": "feature_non_null_plan",
            "Timestamp": "2019-11-26T03:00:00Z",
            "Dimensions": dims,
            "Value": 1.0,
        },
        {
            "MetricName": "feature_non_null_empty",
            "Timestamp": "2019-11-26T03:00:00Z",
            "Dimensions": dims,
            "Value": 0.0,
        },
    ]
    # one JSON object per line, keys in the order of the PutMetricData datum
    assert lines[0].startswith('{"MetricName": "feature_data_Day Mins", "Timestamp": "2019-11-26T03:00:00Z"')
    assert all("\n" not in line for line in lines)


def test_batch_schedule_has_only_the_schedule_dimension_and_no_timestamp_when_none_given():
    lines = [json.loads(line) for line in metric_lines(window(), schedule="batch-daily")]
    assert all(
        line["Dimensions"] == [{"Name": "MonitoringSchedule", "Value": "batch-daily"}] for line in lines
    )
    assert all("Timestamp" not in line for line in lines)
    assert not any(line["MetricName"].startswith("feature_baseline_drift_") for line in lines)


def test_drift_distances_can_be_given_for_every_feature():
    lines = [json.loads(x) for x in metric_lines(window(), {"Day Mins": 0.0, "plan": 0.125})]
    drift = {
        x["MetricName"]: x["Value"] for x in lines if x["MetricName"].startswith("feature_baseline_drift_")
    }
    assert drift == {"feature_baseline_drift_Day Mins": 0.0, "feature_baseline_drift_plan": 0.125}


def test_the_drift_metric_is_the_measure_the_violation_states_for_every_method():
    baseline = statistics(string_feature("plan", {"a": 500, "b": 500}))
    current = statistics(string_feature("plan", {"a": 90, "b": 10}))
    for method in ("LInfinity", "ChiSquared"):
        document = constraints(
            constraint("plan", "String"), categorical_drift_method=method, comparison_method="Simple"
        )
        measured = measure_drift(baseline, current, document)
        violations = find_violations(baseline, current, document, drift=measured)
        (drift,) = [json.loads(x) for x in metric_lines(current, distances(measured)) if "baseline_drift" in x]
        stated = float(violations[0]["description"].split(": ")[1].split(" ")[0])  # the test reads the text
        assert drift["Value"] == stated == measured["plan"].value
    assert drift["Value"] < 1e-10  # the ChiSquared p-value, printed as 1.0E-…


def test_emit_metrics_disabled_emits_nothing():
    document = constraints(constraint("Day Mins", "Fractional"), emit_metrics="Disabled")
    assert metric_lines(window(), constraints=document) == []
    assert metric_lines(window(), constraints=constraints(constraint("Day Mins", "Fractional"))) != []

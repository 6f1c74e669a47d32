"""The text exposition format, rendered by hand (metrics/prometheus.py)."""

from __future__ import annotations

import math

from watchkeeper.metrics.prometheus import (
    Family,
    Histogram,
    escape_label_value,
    format_value,
    label_name,
    render,
)


def test_label_values_are_escaped() -> None:
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    family = Family("watchkeeper_x", "gauge", "help with \\ and\nnewline")
    family.add(1.5, (("feature", 'we"ird\\name\n'),))
    assert render([family]) == (
        "# HELP watchkeeper_x help with \\\\ and\\nnewline\n"
        "# TYPE watchkeeper_x gauge\n"
        'watchkeeper_x{feature="we\\"ird\\\\name\\n"} 1.5\n'
    )


def test_values() -> None:
    assert format_value(3.0) == "3"
    assert format_value(0.25) == "0.25"
    assert format_value(math.nan) == "NaN"
    assert format_value(math.inf) == "+Inf"
    assert format_value(-math.inf) == "-Inf"
    assert format_value(1e300) == "1e+300"


def test_label_names() -> None:
    assert label_name("MonitoringSchedule") == "monitoring_schedule"
    assert label_name("Endpoint") == "endpoint"
    assert label_name("Batch Transform-Job") == "batch_transform_job"
    assert label_name("9lives") == "l_9lives"
    assert label_name("__reserved") == "reserved"


def test_a_family_without_samples_still_declares_its_type() -> None:
    assert render([Family("watchkeeper_y", "counter", "c")]) == "# HELP watchkeeper_y c\n# TYPE watchkeeper_y counter\n"


def test_histogram_is_cumulative_with_inclusive_bounds() -> None:
    histogram = Histogram("watchkeeper_latency_seconds", "h", "api", buckets=(0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 2.0):
        histogram.observe("sagemaker", seconds)
    text = render([histogram.family()])
    assert 'watchkeeper_latency_seconds_bucket{api="sagemaker",le="0.1"} 2\n' in text
    assert 'watchkeeper_latency_seconds_bucket{api="sagemaker",le="1"} 3\n' in text
    assert 'watchkeeper_latency_seconds_bucket{api="sagemaker",le="+Inf"} 4\n' in text
    assert 'watchkeeper_latency_seconds_count{api="sagemaker"} 4\n' in text
    assert 'watchkeeper_latency_seconds_sum{api="sagemaker"} 2.65\n' in text
    assert "# TYPE watchkeeper_latency_seconds histogram\n" in text

"""Constraint suggestion (spec §6): AWS's churn constraints.json reproduced from AWS's statistics, and the
rules for what AWS's file does not show (negative minimum, String domains, Unknown columns)."""

from __future__ import annotations

import copy
import csv
import re

import pytest

from tests.analysis_checks.documents import (
    ARTIFACTS,
    numeric_feature,
    real_constraints,
    real_statistics,
    statistics,
    string_feature,
    unknown_feature,
)
from watchkeeper.analysis import aws_json
from watchkeeper.analysis.suggest import DEFAULT_MONITORING_CONFIG, suggest_constraints

# ------------------------------------------------------------------------------ real AWS files


def test_reproduces_aws_constraints_for_the_33_features_of_aws_statistics():
    real = real_constraints()
    # AWS's statistics as they were logged (4 sketches missing) — suggestion does not need sketches.
    suggested = suggest_constraints(
        real_statistics(with_reconstructed_sketches=False), real["monitoring_config"]
    )
    assert suggested["version"] == 0.0
    assert suggested["features"] == real["features"][:33]
    assert suggested["monitoring_config"] == real["monitoring_config"]


def _csv_statistics_for_the_rest(first: int) -> list[dict]:
    """Minimal statistics (type, counts, min) of the CSV columns past `first`, computed here from the
    dataset with Deequ's type regexes — the 37 features AWS's truncated log does not show."""
    with (ARTIFACTS / "training-dataset-with-header.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, data = rows[0], rows[1:]
    features = []
    for index in range(first, len(header)):
        values = [row[index] for row in data]
        present = [v for v in values if v != ""]
        if all(re.fullmatch(r"(-|\+)? ?[0-9]+", v) for v in present):
            kind = "Integral"
        else:
            kind = "Fractional"
        features.append(
            {
                "name": header[index],
                "inferred_type": kind,
                "numerical_statistics": {
                    "common": {"num_present": len(present), "num_missing": len(values) - len(present)},
                    "min": min(float(v) for v in present),
                },
            }
        )
    return features


def test_reproduces_the_whole_aws_constraints_file_byte_for_byte():
    real_text = (ARTIFACTS / "constraints.json").read_text()
    real = real_constraints()
    document = real_statistics(with_reconstructed_sketches=False)
    document["features"] += _csv_statistics_for_the_rest(len(document["features"]))
    suggested = suggest_constraints(document, real["monitoring_config"])
    assert suggested == real
    assert aws_json.dumps(suggested) + "\n" == real_text


def test_default_monitoring_config_is_the_containers():
    suggested = suggest_constraints(statistics(numeric_feature("x", [[1.0, 2.0]])))
    assert suggested["monitoring_config"] == {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": "LInfinity",
        },
    }
    # callers get their own copy
    suggested["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 9.0
    assert DEFAULT_MONITORING_CONFIG["distribution_constraints"]["comparison_threshold"] == 0.1


def test_a_given_monitoring_config_is_written_as_given_and_not_shared():
    config = copy.deepcopy(DEFAULT_MONITORING_CONFIG)
    config["distribution_constraints"]["categorical_drift_method"] = "ChiSquared"
    suggested = suggest_constraints(statistics(numeric_feature("x", [[1.0]])), config)
    assert suggested["monitoring_config"] == config
    assert suggested["monitoring_config"] is not config
    assert (
        suggested["monitoring_config"]["distribution_constraints"] is not config["distribution_constraints"]
    )


# ------------------------------------------------------------------------------ numeric


def test_numeric_feature_gets_completeness_and_non_negative_flag_in_aws_key_order():
    feature = numeric_feature("Account Length", [[3.0, 0.0, 5.0]], missing=1)
    (suggested,) = suggest_constraints(statistics(feature))["features"]
    assert list(suggested) == ["name", "inferred_type", "completeness", "num_constraints"]
    assert suggested == {
        "name": "Account Length",
        "inferred_type": "Integral",
        "completeness": 0.75,
        "num_constraints": {"is_non_negative": True},
    }


def test_negative_minimum_is_written_as_is_non_negative_false():
    (suggested,) = suggest_constraints(statistics(numeric_feature("delta", [[-0.5, 2.5]])))["features"]
    assert suggested["inferred_type"] == "Fractional"
    assert suggested["num_constraints"] == {"is_non_negative": False}


def test_unknown_feature_gets_only_type_and_completeness():
    (suggested,) = suggest_constraints(statistics(unknown_feature("empty", 10)))["features"]
    assert suggested == {"name": "empty", "inferred_type": "Unknown", "completeness": 0.0}


# ------------------------------------------------------------------------------ String domains


def test_string_feature_with_few_repeated_values_gets_domains_by_descending_count():
    feature = string_feature("plan", {"basic": 40, "gold": 10, "silver": 25, "none": 25})
    (suggested,) = suggest_constraints(statistics(feature))["features"]
    assert list(suggested) == ["name", "inferred_type", "completeness", "string_constraints"]
    # ties (silver, none) keep the buckets' order
    assert suggested["string_constraints"] == {"domains": ["basic", "silver", "none", "gold"]}


def test_domains_need_at_most_ten_percent_of_values_seen_once():
    ten_values_one_unique = {f"v{i}": 5 for i in range(9)} | {"rare": 1}
    (ok,) = suggest_constraints(statistics(string_feature("s", ten_values_one_unique)))["features"]
    assert ok["string_constraints"]["domains"][-1] == "rare"
    nine_values_one_unique = {f"v{i}": 5 for i in range(8)} | {"rare": 1}  # 1/9 > 0.1
    (no,) = suggest_constraints(statistics(string_feature("s", nine_values_one_unique)))["features"]
    assert "string_constraints" not in no


def test_no_domains_beyond_120_distinct_values_or_from_a_truncated_histogram():
    many = {f"v{i}": 3 for i in range(121)}
    (suggested,) = suggest_constraints(statistics(string_feature("s", many)))["features"]
    assert "string_constraints" not in suggested
    exactly_120 = {f"v{i}": 3 for i in range(120)}
    (suggested,) = suggest_constraints(statistics(string_feature("s", exactly_120)))["features"]
    assert len(suggested["string_constraints"]["domains"]) == 120
    truncated = string_feature("s", {"a": 10, "b": 10})
    truncated["string_statistics"]["common"]["num_present"] = 25  # 5 values not in the buckets
    (suggested,) = suggest_constraints(statistics(truncated))["features"]
    assert "string_constraints" not in suggested
    high_distinct = string_feature("s", {"a": 10, "b": 10}, distinct=500)
    (suggested,) = suggest_constraints(statistics(high_distinct))["features"]
    assert "string_constraints" not in suggested


def test_string_completeness_counts_missing_values():
    (suggested,) = suggest_constraints(statistics(string_feature("s", {"a": 3}, missing=1)))["features"]
    assert suggested["completeness"] == pytest.approx(0.75)

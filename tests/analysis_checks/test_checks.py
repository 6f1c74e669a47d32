"""Every check of spec §7 through `find_violations`, with thresholds at their edges, overrides, the
Enabled/Disabled switches, the exact description texts, and AWS's own files as inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tests.analysis_checks.documents import (
    constraint,
    constraints,
    expand,
    feature_of,
    numeric_feature,
    real_constraints,
    real_statistics,
    replaced,
    sketch_of,
    statistics,
    string_feature,
    unknown_feature,
)
from watchkeeper.analysis.checks import drift_distances, find_violations, type_match_ratio
from watchkeeper.analysis.types import TypeCounts


def only(violations, check):
    return [v for v in violations if v["constraint_check_type"] == check]


def churn_state_column(name="State_HI"):
    """The real churn monitoring case (spec §12.1): 1912 one-hot values and 7 header-like 0.3s."""
    return numeric_feature(name, [[0.0] * 1900 + [1.0] * 12 + [0.3] * 7])


# ------------------------------------------------------------------------------ data_type_check


def test_data_type_check_reproduces_the_real_aws_description():
    current = statistics(churn_state_column())
    violations = find_violations(None, current, constraints(constraint("State_HI", "Integral")))
    assert violations == [
        {
            "feature_name": "State_HI",
            "constraint_check_type": "data_type_check",
            "description": "Data type match requirement is not met. Expected data type: Integral, "
            "Expected match: 100.0%. Observed: Only 99.6352266805628% of data is Integral.",
        }
    ]


def test_data_type_check_on_probabilities_in_an_integral_column_reports_zero_percent():
    scores = numeric_feature("Churn", [np.linspace(0.01, 0.99, 50).tolist()])
    (violation,) = find_violations(None, statistics(scores), constraints(constraint("Churn", "Integral")))
    assert violation["description"].endswith("Observed: Only 0.0% of data is Integral.")


def test_data_type_threshold_edge_and_expected_match_text():
    current = statistics(churn_state_column())
    at_ratio = constraints(constraint("State_HI", "Integral"), datatype_check_threshold=1912 / 1919)
    assert find_violations(None, current, at_ratio) == []
    above = constraints(constraint("State_HI", "Integral"), datatype_check_threshold=0.9964)
    (violation,) = find_violations(None, current, above)
    assert "Expected match: 99.64%." in violation["description"]
    half = constraints(constraint("State_HI", "Integral"), datatype_check_threshold=0.5)
    assert find_violations(None, current, half) == []


def test_whole_numbers_satisfy_a_fractional_constraint():
    current = statistics(numeric_feature("x", [[1.0, 2.0, 3.0]]))
    assert find_violations(None, current, constraints(constraint("x", "Fractional"))) == []


def test_integral_share_is_weighted_by_sketch_level():
    # level 0: 1.0, 0.5 ; level 1: 2.0 (x2) ; level 2: 0.25 (x4)  ->  3 whole of 8 values
    current = statistics(numeric_feature("x", [[1.0, 0.5], [2.0], [0.25]]))
    (violation,) = find_violations(None, current, constraints(constraint("x", "Integral")))
    assert "Observed: Only 37.5% of data is Integral." in violation["description"]


def test_string_values_in_a_numeric_column_are_classified_with_deequs_regexes():
    current = statistics(string_feature("n", {"1": 3, "+ 2": 1, "2.5": 2, "x": 2}))
    (integral,) = find_violations(None, current, constraints(constraint("n", "Integral")))
    assert "Observed: Only 50.0% of data is Integral." in integral["description"]
    (fractional,) = find_violations(None, current, constraints(constraint("n", "Fractional")))
    assert "Observed: Only 75.0% of data is Fractional." in fractional["description"]


def test_all_null_window_column_matches_nothing():
    current = statistics(unknown_feature("x", 5))
    (violation,) = only(
        find_violations(None, current, constraints(constraint("x", "Integral"))), "data_type_check"
    )
    assert "Observed: Only 0.0% of data is Integral." in violation["description"]


def test_string_and_unknown_constraints_have_no_type_check():
    current = statistics(numeric_feature("s", [[1.0, 2.5]]), numeric_feature("u", [[1.0]]))
    document = constraints(constraint("s", "String"), constraint("u", "Unknown"))
    assert only(find_violations(None, current, document), "data_type_check") == []


def test_type_counts_of_the_raw_values_override_the_statistics_estimate():
    current = statistics(numeric_feature("x", [[1.0, 2.0, 3.0, 4.0]]))  # statistics alone: all Integral
    document = constraints(constraint("x", "Integral"))
    as_mapping = {"x": {"Integral": 3, "Fractional": 1, "Unknown": 6}}  # "4.0" was written as Fractional
    (violation,) = find_violations(None, current, document, type_counts=as_mapping)
    assert "Observed: Only 75.0% of data is Integral." in violation["description"]
    as_type_counts = {"x": TypeCounts(fractional=1, integral=3)}
    assert find_violations(None, current, document, type_counts=as_type_counts) == [violation]
    assert type_match_ratio("Fractional", current["features"][0], TypeCounts(fractional=1, integral=3)) == 1.0
    assert type_match_ratio("Integral", current["features"][0], TypeCounts()) == 0.0


# ------------------------------------------------------------------------------ completeness


def test_completeness_check_below_the_constraint_with_text():
    current = statistics(numeric_feature("x", [[1.0] * 99], missing=1))
    (violation,) = find_violations(None, current, constraints(constraint("x", "Integral")))
    assert violation == {
        "feature_name": "x",
        "constraint_check_type": "completeness_check",
        "description": "Data completeness requirement is not met. Expected completeness: 100.0%. "
        "Observed: Only 99.0% of data is complete.",
    }


def test_completeness_equal_to_the_constraint_passes():
    current = statistics(numeric_feature("x", [[1.0] * 9], missing=1))
    assert find_violations(None, current, constraints(constraint("x", "Integral", completeness=0.9))) == []
    below = statistics(numeric_feature("x", [[1.0] * 8], missing=1))  # 0.888...
    (violation,) = find_violations(None, below, constraints(constraint("x", "Integral", completeness=0.9)))
    assert violation["constraint_check_type"] == "completeness_check"
    assert (
        "Expected completeness: 90.0%. Observed: Only 88.88888888888889% of data" in violation["description"]
    )


# ------------------------------------------------------------------------------ numeric drift

BASELINE_LEVELS = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0]]  # 1 2 3 4 5 5 6 6
SHIFTED_LEVELS = [[3.0, 4.0, 5.0, 6.0], [7.0, 8.0]]  # 3 4 5 6 7 7 8 8


def drift_pair(baseline_levels, current_levels, **config):
    baseline = statistics(numeric_feature("x", baseline_levels))
    current = statistics(numeric_feature("x", current_levels))
    kind = baseline["features"][0]["inferred_type"]
    return find_violations(baseline, current, constraints(constraint("x", kind), **config))


def test_numeric_simple_drift_with_the_real_aws_text():
    expected = stats.ks_2samp(expand(BASELINE_LEVELS), expand(SHIFTED_LEVELS)).statistic
    assert expected == 0.5  # dyadic: the text below is exact
    (violation,) = drift_pair(BASELINE_LEVELS, SHIFTED_LEVELS, comparison_method="Simple")
    assert violation == {
        "feature_name": "x",
        "constraint_check_type": "baseline_drift_check",
        "description": "Numerical distance: 0.5 exceeds numerical threshold: 0.1",
    }


def test_numeric_drift_threshold_is_exclusive_and_printed_as_written():
    assert (
        drift_pair(BASELINE_LEVELS, SHIFTED_LEVELS, comparison_method="Simple", comparison_threshold=0.5)
        == []
    )
    (violation,) = drift_pair(
        BASELINE_LEVELS, SHIFTED_LEVELS, comparison_method="Simple", comparison_threshold=0
    )
    assert violation["description"] == "Numerical distance: 0.5 exceeds numerical threshold: 0"


def test_numeric_robust_drift_discounts_small_samples():
    # 8 against 8 values: 1.8 * sqrt(16 / 64) = 0.9 > 0.5, so Robust sees no drift at all.
    assert drift_pair(BASELINE_LEVELS, SHIFTED_LEVELS, comparison_method="Robust") == []


def test_numeric_robust_drift_on_large_samples_matches_the_formula():
    rng = np.random.default_rng(3)
    baseline = [rng.normal(0, 1, 2000).round(3).tolist()]
    current = [rng.normal(0.5, 1, 1000).round(3).tolist()]
    expected = stats.ks_2samp(expand(baseline), expand(current)).statistic - 1.8 * math.sqrt(3000 / 2_000_000)
    (violation,) = drift_pair(baseline, current, comparison_method="Robust")
    printed = float(violation["description"].split("Numerical distance: ")[1].split(" exceeds")[0])
    assert printed == pytest.approx(expected, abs=1e-12)
    assert violation["description"].endswith("exceeds numerical threshold: 0.1")


def test_perform_comparison_disabled_globally_or_per_feature_skips_drift():
    assert (
        drift_pair(BASELINE_LEVELS, SHIFTED_LEVELS, comparison_method="Simple", perform_comparison="Disabled")
        == []
    )
    baseline = statistics(numeric_feature("x", BASELINE_LEVELS), numeric_feature("y", BASELINE_LEVELS))
    current = statistics(numeric_feature("x", SHIFTED_LEVELS), numeric_feature("y", SHIFTED_LEVELS))
    document = constraints(
        constraint(
            "x",
            "Integral",
            monitoringConfigOverrides={"distribution_constraints": {"perform_comparison": "Disabled"}},
        ),
        constraint("y", "Integral"),
        comparison_method="Simple",
    )
    assert [v["feature_name"] for v in find_violations(baseline, current, document)] == ["y"]


def test_drift_is_skipped_without_baseline_statistics_or_sketches():
    current = statistics(numeric_feature("x", SHIFTED_LEVELS))
    document = constraints(constraint("x", "Integral"), comparison_method="Simple")
    assert find_violations(None, current, document) == []
    baseline = statistics(numeric_feature("x", BASELINE_LEVELS))
    sketch_of(baseline["features"][0])["data"] = None  # as in AWS's truncated log
    assert find_violations(baseline, current, document) == []


# ------------------------------------------------------------------------------ categorical drift


def categorical_pair(baseline_counts, current_counts, **config):
    baseline = statistics(string_feature("plan", baseline_counts))
    current = statistics(string_feature("plan", current_counts))
    return find_violations(baseline, current, constraints(constraint("plan", "String"), **config))


def test_categorical_linf_drift_text_and_threshold_edge():
    (violation,) = categorical_pair({"a": 50, "b": 50}, {"a": 75, "b": 25}, comparison_method="Simple")
    assert violation == {
        "feature_name": "plan",
        "constraint_check_type": "baseline_drift_check",
        "description": "Categorical distance: 0.25 exceeds categorical threshold: 0.1",
    }
    assert (
        categorical_pair(
            {"a": 50, "b": 50},
            {"a": 75, "b": 25},
            comparison_method="Simple",
            categorical_comparison_threshold=0.25,
        )
        == []
    )


def test_categorical_linf_robust_correction():
    baseline, current = {"a": 5000, "b": 5000}, {"a": 700, "b": 300}
    expected = 0.2 - 1.8 * math.sqrt(11000 / 10_000_000)
    (violation,) = categorical_pair(baseline, current, comparison_method="Robust")
    printed = float(violation["description"].split("Categorical distance: ")[1].split(" exceeds")[0])
    assert printed == pytest.approx(expected, abs=1e-12)
    assert categorical_pair({"a": 5, "b": 5}, {"a": 7, "b": 3}, comparison_method="Robust") == []


def test_categorical_chi_squared_flags_small_p_values_only():
    baseline, current = {"a": 500, "b": 300, "c": 200}, {"a": 40, "b": 30, "c": 30}
    p_value = stats.chisquare([40, 30, 30], [50, 30, 20]).pvalue
    assert 0.01 < p_value < 0.1
    (violation,) = categorical_pair(baseline, current, categorical_drift_method="ChiSquared")
    printed = float(violation["description"].split("p-value): ")[1].split(" is below")[0])
    assert printed == pytest.approx(p_value, rel=1e-12)
    assert violation["description"].startswith("Categorical distance (ChiSquared p-value): ")
    assert violation["description"].endswith(" is below categorical threshold: 0.1")
    assert (
        categorical_pair(
            baseline, current, categorical_drift_method="ChiSquared", categorical_comparison_threshold=0.01
        )
        == []
    )


def test_categorical_chi_squared_without_a_possible_test_is_not_a_violation():
    assert categorical_pair({"a": 950, "b": 50}, {"b": 100}, categorical_drift_method="ChiSquared") == []


# ------------------------------------------------------------------------------ categorical values


def test_categorical_values_check_counts_nulls_as_compliant_like_deequ_is_contained_in():
    current = statistics(string_feature("plan", {"a": 6, "z": 2}, missing=2))
    document = constraints(
        constraint("plan", "String", completeness=0.8, string_constraints={"domains": ["a", "b"]})
    )
    violations = find_violations(None, current, document)
    assert violations == [
        {
            "feature_name": "plan",
            "constraint_check_type": "categorical_values_check",
            "description": "Value: 0.8 does not meet the constraint requirement!",
        }
    ]


def test_categorical_values_threshold_edge_and_no_domain():
    current = statistics(string_feature("plan", {"a": 8, "z": 2}))
    with_domain = constraint("plan", "String", string_constraints={"domains": ["a"]})
    assert find_violations(None, current, constraints(with_domain, domain_content_threshold=0.8)) == []
    assert len(find_violations(None, current, constraints(with_domain, domain_content_threshold=0.81))) == 1
    assert find_violations(None, current, constraints(constraint("plan", "String"))) == []


# ------------------------------------------------------------------------------ columns


def test_missing_and_extra_columns():
    current = statistics(numeric_feature("a", [[1.0]]), numeric_feature("new", [[1.0]]))
    document = constraints(constraint("a", "Integral"), constraint("b", "Integral"))
    assert find_violations(None, current, document) == [
        {
            "feature_name": "b",
            "constraint_check_type": "missing_column_check",
            "description": "There are missing columns in current dataset. Column b is missing. "
            "Number of columns in current dataset: 2, Number of columns in baseline constraints: 2.",
        },
        {
            "feature_name": "new",
            "constraint_check_type": "extra_column_check",
            "description": "There are extra columns in current dataset. Column new is not in the "
            "baseline constraints. Number of columns in current dataset: 2, "
            "Number of columns in baseline constraints: 2.",
        },
    ]


# ------------------------------------------------------------------------------ switches & overrides


def everything_wrong():
    """A window that violates every kind of check, and its baseline and constraints."""
    baseline = statistics(
        numeric_feature("num", BASELINE_LEVELS),
        string_feature("cat", {"a": 50, "b": 50}),
        numeric_feature("gone", [[1.0]]),
    )
    current = statistics(
        numeric_feature("num", [[3.5, 4.0, 5.0, 6.0], [7.0, 8.0]], missing=1),
        string_feature("cat", {"a": 90, "zz": 10}),
        numeric_feature("extra", [[1.0]]),
    )
    document = constraints(
        constraint("num", "Integral"),
        constraint("cat", "String", string_constraints={"domains": ["a", "b"]}),
        constraint("gone", "Integral"),
        comparison_method="Simple",
    )
    return baseline, current, document


def test_order_and_kinds_of_all_checks():
    baseline, current, document = everything_wrong()
    assert [
        (v["feature_name"], v["constraint_check_type"]) for v in find_violations(baseline, current, document)
    ] == [
        ("num", "data_type_check"),
        ("num", "completeness_check"),
        # num has drifted too, but a column that failed its type check gets no drift verdict
        ("cat", "categorical_values_check"),
        ("cat", "baseline_drift_check"),
        ("gone", "missing_column_check"),
        ("extra", "extra_column_check"),
    ]


def test_evaluate_constraints_disabled_reports_nothing():
    baseline, current, document = everything_wrong()
    document["monitoring_config"]["evaluate_constraints"] = "Disabled"
    document["features"][0]["monitoringConfigOverrides"] = {"evaluate_constraints": "Enabled"}
    assert find_violations(baseline, current, document) == []


@pytest.mark.parametrize(
    "spelling",
    [
        lambda f: f.__setitem__("monitoringConfigOverrides", {"evaluate_constraints": "Disabled"}),
        lambda f: f.__setitem__("monitoring_config_overrides", {"evaluate_constraints": "Disabled"}),
        # the SDK's Constraints.set_monitoring(False, feature_name)
        lambda f: f.setdefault("string_constraints", {}).__setitem__(
            "monitoring_config_overrides", {"evaluate_constraints": "Disabled"}
        ),
    ],
    ids=["docs-camelCase", "snake_case", "sdk-string_constraints"],
)
def test_evaluate_constraints_disabled_per_feature(spelling):
    baseline, current, document = everything_wrong()
    spelling(document["features"][0])
    spelling(document["features"][2])
    checked = {v["feature_name"] for v in find_violations(baseline, current, document)}
    assert checked == {"cat", "extra"}


def test_per_feature_threshold_overrides_flat_or_nested():
    baseline, current, _ = everything_wrong()
    document = constraints(
        constraint(
            "num",
            "Integral",
            completeness=0.5,
            monitoringConfigOverrides={"datatype_check_threshold": 0.8, "comparison_threshold": 0.9},
        ),
        constraint(
            "cat",
            "String",
            string_constraints={"domains": ["a", "b"]},
            monitoringConfigOverrides={
                "domain_content_threshold": 0.9,
                "distribution_constraints": {"categorical_comparison_threshold": 0.5},
            },
        ),
        comparison_method="Simple",
    )
    assert [v["constraint_check_type"] for v in find_violations(baseline, current, document)] == [
        "extra_column_check"
    ]


def test_unknown_methods_fail_with_a_reason_that_names_the_key():
    baseline, current, document = everything_wrong()
    document["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Fancy"
    with pytest.raises(ValueError, match="comparison_method must be Simple or Robust"):
        find_violations(baseline, current, document)
    _, _, document = everything_wrong()
    document["features"][1]["monitoringConfigOverrides"] = {"categorical_drift_method": "KL"}
    with pytest.raises(ValueError, match=r"feature 'cat'.*categorical_drift_method"):
        find_violations(baseline, current, document)


# ------------------------------------------------------------------------------ AWS's own files


def test_aws_statistics_and_constraints_against_themselves_have_no_violation():
    document = real_statistics()
    real = real_constraints()
    real["features"] = real["features"][:33]  # the statistics AWS's log kept
    assert find_violations(document, document, real) == []
    assert set(drift_distances(document, document, real).values()) == {0.0}
    # AWS's 2022 monitoring_config has no categorical_* keys; the container defaults fill them.
    assert "categorical_drift_method" not in real["monitoring_config"]["distribution_constraints"]


def test_aws_baseline_with_truncated_sketches_still_checks_everything_else():
    baseline = real_statistics(with_reconstructed_sketches=False)
    real = real_constraints()
    real["features"] = real["features"][:33]
    current = replaced(baseline, churn_state_column("State_MA"))  # State_MA's baseline sketch is null
    current = replaced(current, churn_state_column("State_HI"))
    violations = find_violations(baseline, current, real)
    # 7 odd values among 1919 are no drift once Robust discounts the sample sizes; State_MA has no
    # baseline sketch, so only its type is checked.
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("State_HI", "data_type_check"),
        ("State_MA", "data_type_check"),
    ]
    assert violations[0]["description"].endswith("Observed: Only 99.6352266805628% of data is Integral.")


def test_aws_churn_window_drift_is_the_robust_ks_distance_of_the_sketches():
    baseline = real_statistics()
    real = real_constraints()
    real["features"] = real["features"][:33]
    window = numeric_feature("State_HI", [[0.0] * 1000 + [1.0] * 919])  # about 1% of ones in the baseline
    base_sample = expand(sketch_of(feature_of(baseline, "State_HI"))["data"])
    cur_sample = expand(sketch_of(window)["data"])
    expected = stats.ks_2samp(base_sample, cur_sample).statistic - 1.8 * math.sqrt(
        (2333 + 1919) / (2333 * 1919)
    )
    (drift,) = find_violations(baseline, replaced(baseline, window), real)
    printed = float(drift["description"].split("Numerical distance: ")[1].split(" exceeds")[0])
    assert printed == pytest.approx(expected, abs=1e-12)
    assert drift_distances(baseline, replaced(baseline, window), real)["State_HI"] == pytest.approx(
        expected, abs=1e-12
    )


def test_drift_distances_report_every_comparable_feature_and_chi_squared_p_values():
    baseline = statistics(numeric_feature("x", BASELINE_LEVELS), string_feature("c", {"a": 500, "b": 500}))
    current = statistics(numeric_feature("x", BASELINE_LEVELS), string_feature("c", {"a": 70, "b": 30}))
    document = constraints(
        constraint("x", "Integral"), constraint("c", "String"), categorical_drift_method="ChiSquared"
    )
    distances = drift_distances(baseline, current, document)
    assert distances["x"] == 0.0
    assert distances["c"] == pytest.approx(stats.chisquare([70, 30], [50, 50]).pvalue, rel=1e-12)

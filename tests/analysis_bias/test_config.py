"""analysis_config.json → BiasConfig, and the errors that name the bad member."""

from __future__ import annotations

import pytest

from tests.analysis_bias.adult import adult_config
from watchkeeper.analysis.bias.config import BiasConfig, FacetSpec, bias_config
from watchkeeper.analysis.bias.names import POST_TRAINING, PRE_TRAINING


def test_the_adult_config() -> None:
    config = bias_config(adult_config())
    assert config == BiasConfig(label="Target", label_values_or_threshold=(1,), facets=(FacetSpec("Sex", (0,)),),
                                group_variable="Age", probability_threshold=None,
                                pre_training_methods=tuple(PRE_TRAINING), post_training_methods=tuple(POST_TRAINING),
                                headers=tuple(adult_config()["headers"]))
    name, values = config.facets[0]  # a facet unpacks as (name_or_index, value_or_threshold)
    assert (name, values) == ("Sex", (0,))


def test_a_monitoring_config_without_methods_asks_for_everything() -> None:
    config = bias_config({"label": 3, "label_values_or_threshold": ["yes", "maybe"],
                          "facet": [{"name_or_index": 0}, {"name_or_index": "Age", "value_or_threshold": [40.5]}],
                          "probability_threshold": 0.7})
    assert config.label == 3
    assert config.facets == (FacetSpec(0, None), FacetSpec("Age", (40.5,)))
    assert config.probability_threshold == 0.7
    assert config.pre_training_methods == tuple(PRE_TRAINING)
    assert config.post_training_methods == tuple(POST_TRAINING)


def test_methods_select_and_order_metrics() -> None:
    config = bias_config({"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "f"}],
                          "methods": {"post_training_bias": {"methods": ["te", "DPPL", "AD"]}, "report": {}}})
    assert config.pre_training_methods == ()
    assert config.post_training_methods == ("AD", "DPPL", "TE")


@pytest.mark.parametrize(("change", "member"), [
    ({"label": None}, "label"),
    ({"label": ""}, "label"),
    ({"label_values_or_threshold": []}, "label_values_or_threshold"),
    ({"label_values_or_threshold": 1}, "label_values_or_threshold"),
    ({"label_values_or_threshold": [[1]]}, "label_values_or_threshold"),
    ({"facet": []}, "facet"),
    ({"facet": [{"value_or_threshold": [1]}]}, "facet[0].name_or_index"),
    ({"facet": [{"name_or_index": "Sex", "value_or_threshold": [True]}]}, "facet[0].value_or_threshold"),
    ({"group_variable": ["Age"]}, "group_variable"),
    ({"probability_threshold": "high"}, "probability_threshold"),
    ({"methods": {"pre_training_bias": {"methods": ["CI", "XYZ"]}}}, "methods.pre_training_bias.methods"),
    ({"methods": {"post_training_bias": {"methods": 3}}}, "methods.post_training_bias.methods"),
    ({"methods": {"post_training_bias": "all"}}, "methods.post_training_bias"),
    ({"headers": "Age,Sex"}, "headers"),
])
def test_bad_members_are_named(change: dict, member: str) -> None:
    with pytest.raises(ValueError, match=member.replace("[", r"\[").replace("]", r"\]")):
        bias_config({**adult_config(), **change})

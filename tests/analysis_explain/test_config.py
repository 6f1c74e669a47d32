"""The methods.shap section as the SageMaker SDK writes it, and bad members named."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from watchkeeper.analysis.explain.config import DEFAULT_NUM_CLUSTERS, explained_columns, shap_config

SDK_PYTHON = Path(__file__).resolve().parents[2] / ".venv-sdk" / "bin" / "python"


@pytest.mark.skipif(not SDK_PYTHON.exists(), reason=f"{SDK_PYTHON} is missing: run `make test`, which builds it")
def test_configs_the_sdk_writes():
    answer = subprocess.run([str(SDK_PYTHON), str(Path(__file__).with_name("sdk_config.py"))], check=True,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"})
    with_baseline, clustered = json.loads(answer.stdout.strip().splitlines()[-1])
    config = shap_config(with_baseline)
    assert config.baseline == ((39, 2, 184870, 10, 10, 3, 6, 1, 4, 1, 1597, 61, 41, 37),)
    assert (config.num_samples, config.agg_method, config.use_logit, config.seed) == (100, "mean_abs", False, 123)
    assert config.save_local_shap_values is False and config.num_clusters is None and config.clusters is None
    assert config.headers[0] == "Age" and config.headers[-1] == "Target"
    assert explained_columns(config, 14) == [0, 4]
    config = shap_config(clustered)
    assert config.baseline is None and config.num_clusters == 3 and config.clusters == 3
    assert config.use_logit is True and config.num_samples is None and config.agg_method == "mean_abs"
    assert explained_columns(config, 14) == list(range(14))


def test_defaults_and_uris():
    config = shap_config({"methods": {"shap": {"baseline": "s3://bucket/baseline.csv"}}})
    assert config.baseline == "s3://bucket/baseline.csv"
    assert (config.agg_method, config.use_logit, config.save_local_shap_values) == ("mean_abs", False, False)
    assert shap_config({"methods": {"shap": {}}}).clusters == DEFAULT_NUM_CLUSTERS
    jsonl = shap_config({"methods": {"shap": {"baseline": {"instances": [{"features": [1, 2]}]}}}})
    assert jsonl.baseline == ({"features": [1, 2]},)


@pytest.mark.parametrize("shap,member", [
    ({"agg_method": "mean"}, "methods.shap.agg_method"),
    ({"num_samples": 0}, "methods.shap.num_samples"),
    ({"num_samples": "100"}, "methods.shap.num_samples"),
    ({"num_clusters": True}, "methods.shap.num_clusters"),
    ({"baseline": [[1]], "num_clusters": 2}, "methods.shap.baseline and methods.shap.num_clusters"),
    ({"baseline": []}, "methods.shap.baseline"),
    ({"use_logit": "yes"}, "methods.shap.use_logit"),
    ({"save_local_shap_values": 1}, "methods.shap.save_local_shap_values"),
    ({"seed": 1.5}, "methods.shap.seed"),
    ({"features_to_explain": []}, "methods.shap.features_to_explain"),
])
def test_bad_members_are_named(shap, member):
    with pytest.raises(ValueError, match=member.replace(".", r"\.")):
        shap_config({"methods": {"shap": shap}})


def test_missing_section_and_unknown_features():
    with pytest.raises(ValueError, match=r"methods\.shap"):
        shap_config({"methods": {"post_training_bias": {}}})
    config = shap_config({"headers": ["a", "b"], "methods": {"shap": {"features_to_explain": ["c"]}}})
    with pytest.raises(ValueError, match="'c' is not among the headers"):
        explained_columns(config, 2)

"""The Clarify processing job (SageMakerClarifyProcessor's contract) on AWS's adult data: the plumbing from
analysis_config.json and a JSON dataset to analysis.json, and the failures that name their cause."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.aws_fixtures import aws_fixture
from tests.clarify.jobs import clarify_job, message
from watchkeeper.jobs.toolkit.summary import JobFailed

ADULT = "adult-clarify-bias-and-explainability"


def _config() -> dict:
    config = json.loads(aws_fixture(ADULT, "bias-analysis_config.reconstructed.json").read_text())
    config.pop("_note")
    return config


def _pre_training_only(config: dict) -> dict:
    config = copy.deepcopy(config)
    config["methods"] = {"pre_training_bias": {"methods": "all"}}
    config.pop("predictor")
    return config


def test_pre_training_bias_of_the_adult_dataset_is_aws_s(tmp_path: Path) -> None:
    summary, output = clarify_job(tmp_path, _pre_training_only(_config()),
                                  aws_fixture(ADULT, "validation-dataset.json"))
    assert summary.status == "Completed"
    ours = json.loads((output / "analysis.json").read_text())
    theirs = json.loads(aws_fixture(ADULT, "bias-baseline-analysis.json").read_text())
    assert ours["pre_training_bias_metrics"] == theirs["pre_training_bias_metrics"]
    assert "post_training_bias_metrics" not in ours
    assert (output / "report.html").read_text().count("<tr>") > 8
    # Clarify's own indentation
    assert (output / "analysis.json").read_text().startswith('{\n    "version": "1.0"')


def test_the_same_data_as_csv_with_a_header_row(tmp_path: Path) -> None:
    document = json.loads(aws_fixture(ADULT, "validation-dataset.json").read_text())
    config = _pre_training_only(_config())
    lines = [",".join(config["headers"])]
    lines += [",".join(str(v) for v in [*row["features"], row["label"]]) for row in document["instances"]]
    dataset = tmp_path / "data.csv"
    dataset.write_text("\n".join(lines) + "\n")
    config.update({"dataset_type": "text/csv", "label": "Target"})
    del config["features"]
    _, output = clarify_job(tmp_path / "job", config, dataset)
    theirs = json.loads(aws_fixture(ADULT, "bias-baseline-analysis.json").read_text())
    assert json.loads((output / "analysis.json").read_text())["pre_training_bias_metrics"] == \
        theirs["pre_training_bias_metrics"]


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        (lambda c: c.update(facet=[{"name_or_index": "Gender", "value_or_threshold": [0]}]), "Gender"),
        (lambda c: c.update(label_values_or_threshold=[7]), "7"),
        (lambda c: c.update(group_variable="Birthplace"), "Birthplace"),
        (lambda c: c.update(features="instances[*].nothing"), "features"),
        (lambda c: c.update(methods={"pdp": {}}), "pdp"),
    ],
)
def test_bad_input_fails_the_job_naming_the_cause(tmp_path: Path, change, cause: str) -> None:
    config = _pre_training_only(_config())
    change(config)
    with pytest.raises(JobFailed):
        clarify_job(tmp_path, config, aws_fixture(ADULT, "validation-dataset.json"))
    assert cause in message(tmp_path)
    assert not (tmp_path / "opt/ml/processing/output/analysis.json").exists()


def test_post_training_without_a_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(JobFailed):
        clarify_job(tmp_path, _config(), aws_fixture(ADULT, "validation-dataset.json"))
    assert "model" in message(tmp_path)

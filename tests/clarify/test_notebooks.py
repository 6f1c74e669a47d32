"""AWS's Clarify notebooks, run as users run them (the SageMaker SDK in `.venv-sdk`), against a real Watchkeeper
alone (its S3 API over the embedded store), with the notebooks' own models served by tests/notebook_models and
their own data.

Expected numbers: the pre-training bias of the adult baseline is AWS's (tests/fixtures/aws); the rest is checked
for its AWS shape and against what the model answered.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws_fixtures import aws_fixture
from tests.endpoint_helpers import FAST_ENV
from tests.notebook_models.serving import start_model_server
from tests.sdk.test_sdk_flow import ACCESS_KEY, SDK_PYTHON, SECRET_KEY, sdk_env
from tests.server_process import ServerProcess
from watchkeeper.analysis.explain.drift import ndcg

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE.parent / "fixtures" / "notebooks"

pytestmark = [
    pytest.mark.skipif(not SDK_PYTHON.exists(), reason=f"{SDK_PYTHON} is missing: run `make test`, which builds it"),
    pytest.mark.slow,  # 20 s or more: started first under xdist (tests/conftest.py)
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {**FAST_ENV, "WATCHKEEPER_INVOCATION_TIMEOUT_SECONDS": "10"}
    process = ServerProcess(tmp_path_factory.mktemp("clarify"), env=env,
                            keys={"sdk": (ACCESS_KEY, SECRET_KEY, "123456789012")}).start()
    yield process
    process.stop()


def run_notebook(driver: str, tmp: Path, server: ServerProcess, *args: str) -> dict[str, Any]:
    bucket = f"nb-{uuid.uuid4().hex[:12]}"
    command = [str(SDK_PYTHON), str(HERE / driver), "--sagemaker-url", server.url, "--bucket", bucket, *args]
    done = subprocess.run(command, env=sdk_env(tmp, server), capture_output=True, text=True,
                          timeout=280, check=False)
    assert done.returncode == 0, (
        f"{driver} failed:\n{done.stderr[-6000:]}\n--- server log ---\n{server.log_path.read_text()[-4000:]}"
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def adult(tmp_path_factory: pytest.TempPathFactory, server: ServerProcess) -> Iterator[dict]:
    with start_model_server("linear-learner") as model_url:
        yield run_notebook("notebook_adult_bias.py", tmp_path_factory.mktemp("adult"), server,
                           "--model-url", model_url,
                           "--data", str(NOTEBOOKS / "sm-clarify_model_bias_monitor_for_endpoint"))


def test_adult_bias_baseline_reproduces_aws(adult: dict) -> None:
    ours = adult["baseline"]
    theirs = json.loads(aws_fixture("adult-clarify-bias-and-explainability", "bias-baseline-analysis.json")
                        .read_text())
    assert ours["pre_training_bias_metrics"] == theirs["pre_training_bias_metrics"]
    # The same model (the notebook's linear learner) on the same data: AWS's post-training numbers.
    def values(doc: dict) -> dict:
        return {m["name"]: m["value"] for m in doc["post_training_bias_metrics"]["facets"]["Sex"][0]["metrics"]}

    assert values(ours) == values(theirs)
    assert ours["post_training_bias_metrics"] == theirs["post_training_bias_metrics"]
    assert adult["baseline_uri"].endswith("/analysis.json")


def test_adult_bias_execution_reports_as_aws_does(adult: dict) -> None:
    execution = adult["execution"]
    assert execution["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations"), execution
    assert adult["merged_files"], "the merge job wrote nothing under <output>/merge"
    merged = adult["merged_record"]
    assert json.loads(merged["groundTruthData"]["data"])["label"] in (0, 1)
    names = {uri.rsplit("/", 1)[1] for uri in adult["report_files"]}
    assert {"analysis.json", "report.html"} <= names
    if execution["MonitoringExecutionStatus"] == "CompletedWithViolations":
        assert "constraint_violations.json" in names
        violations = adult["violations"]["violations"]
        assert violations and {v["constraint_check_type"] for v in violations} == {"bias_drift_check"}
        for violation in violations:
            assert violation["description"].startswith("Metric value ")
            assert " doesn't meet the baseline constraint requirement " in violation["description"]
            assert (violation["facet"], violation["facet_value"]) == ("Sex", "0")


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory, server: ServerProcess) -> Iterator[dict]:
    with start_model_server("xgboost") as model_url:
        yield run_notebook("notebook_churn_bias_explainability.py", tmp_path_factory.mktemp("churn"), server,
                           "--model-url", model_url,
                           "--data", str(NOTEBOOKS / "sm-model_monitor_bias_and_explainability_monitoring"))


def test_churn_bias_baseline_and_execution(churn: dict) -> None:
    baseline = churn["bias_baseline"]
    assert set(baseline) == {"version", "pre_training_bias_metrics", "post_training_bias_metrics"}
    facet = baseline["post_training_bias_metrics"]["facets"]["Account Length"][0]
    assert facet["value_or_threshold"] == "100"
    assert {m["name"] for m in facet["metrics"]} >= {"DPPL", "DI", "AD", "FT", "GE"}
    execution = churn["bias"]["execution"]
    assert execution["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations"), execution
    assert "analysis.json" in {uri.rsplit("/", 1)[1] for uri in churn["bias"]["report_files"]}


def test_churn_explainability_baseline_and_execution(churn: dict) -> None:
    baseline = churn["explainability_baseline"]["explanations"]["kernel_shap"]["label0"]
    assert len(baseline["global_shap_values"]) == 69  # every feature, not the label
    assert "Churn" not in baseline["global_shap_values"]
    assert all(value >= 0 for value in baseline["global_shap_values"].values())  # mean_abs
    execution = churn["explainability"]["execution"]
    assert execution["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations"), execution
    current = churn["explainability"]["analysis"]["explanations"]["kernel_shap"]["label0"]
    assert list(current["global_shap_values"]) == list(baseline["global_shap_values"])
    # One baseline row: the expected value is the model's score of it, in both runs.
    assert current["expected_value"] == pytest.approx(baseline["expected_value"], rel=1e-9)
    violations = churn["explainability"]["violations"]
    if execution["MonitoringExecutionStatus"] == "CompletedWithViolations":
        [violation] = violations["violations"]
        assert violation["constraint_check_type"] == "feature_attribution_drift_check"
        assert violation["description"].startswith("Feature attribution drift ")


def test_clarify_processor_runs(tmp_path: Path, server: ServerProcess) -> None:
    """SageMakerClarifyProcessor.run_pre_training_bias / run_post_training_bias / run_bias / run_explainability."""
    with start_model_server("linear-learner") as model_url:
        report = run_notebook("clarify_processor.py", tmp_path, server, "--model-url", model_url,
                              "--data", str(NOTEBOOKS / "sm-clarify_model_bias_monitor_for_endpoint"))
    theirs = json.loads(aws_fixture("adult-clarify-bias-and-explainability", "bias-baseline-analysis.json")
                        .read_text())
    assert report["pre"] == {"version": "1.0", "pre_training_bias_metrics": theirs["pre_training_bias_metrics"]}
    assert report["post"] == {"version": "1.0", "post_training_bias_metrics": theirs["post_training_bias_metrics"]}
    assert report["bias"] == theirs
    shap = report["shap"]["explanations"]["kernel_shap"]["label0"]
    aws_shap = json.loads(aws_fixture("adult-clarify-bias-and-explainability", "explainability-baseline-analysis.json")
                          .read_text())["explanations"]["kernel_shap"]
    [aws_label] = aws_shap.values()
    # The same model and baseline row as AWS's run: the same expected value, to the bit.
    assert shap["expected_value"] == aws_label["expected_value"]
    assert list(shap["global_shap_values"]) == list(aws_label["global_shap_values"])
    # Kernel SHAP samples coalitions, so the values are not AWS's bit for bit; the ranking is AWS's, as
    # monitoring measures it (nDCG, alerting below 0.9).
    assert ndcg(aws_label["global_shap_values"], shap["global_shap_values"]) > 0.95

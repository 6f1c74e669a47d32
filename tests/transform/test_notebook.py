"""AWS's batch-transform data-quality notebook run as users run it (the SageMaker SDK in `.venv-sdk`) against
Watchkeeper alone (its S3 API too), the notebook's churn model served by tests/notebook_models.

Checked independently: the transform's answers against the `xgboost` library's predictions of the same model
(tests/fixtures/notebooks/xgboost-reference-predictions), the capture manifests against the job's own input and
output, and the execution's statistics against numpy over the 334 transformed rows."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.endpoint_helpers import FAST_ENV
from tests.notebook_models.serving import start_model_server
from tests.sdk.test_sdk_flow import REPO, SDK_PYTHON
from tests.server_process import ServerProcess

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE.parent / "fixtures" / "notebooks"
DATA = NOTEBOOKS / "sm-model_monitor_batch_transform_data_quality_on_schedule"
MODELS = NOTEBOOKS / "sm-model_monitor_bias_and_explainability_monitoring"
REFERENCE = NOTEBOOKS / "xgboost-reference-predictions" / "test-dataset-input-cols.csv"

pytestmark = [
    pytest.mark.skipif(not SDK_PYTHON.exists(), reason=f"{SDK_PYTHON} is missing: run `make test`"),
    pytest.mark.slow,  # 20 s or more: started first under xdist (tests/conftest.py)
]


def notebook_env(tmp: Path, url: str) -> dict[str, str]:
    """What a user sets for the notebook (docs/sdk.md): every AWS client at Watchkeeper, the SDK's config
    file with telemetry off, nothing of this machine's AWS configuration."""
    config = tmp / "sagemaker-config.yaml"
    config.write_text("SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    return {**env, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-creds"),
            "AWS_ENDPOINT_URL": url, "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
            "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config), "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "PYTHONPATH": str(REPO)}  # the driver imports tests/sdk/quick_waits.py


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("batch-notebook")
    server = ServerProcess(tmp / "server", env=FAST_ENV).start()
    try:
        with start_model_server("xgboost", batch=True) as model_url:
            command = [str(SDK_PYTHON), str(HERE / "notebook_batch_data_quality.py"), "--sagemaker-url", server.url,
                       "--bucket", f"nb-{uuid.uuid4().hex[:12]}", "--model-url", model_url, "--data", str(DATA),
                       "--models", str(MODELS)]
            done = subprocess.run(command, env=notebook_env(tmp, server.url), capture_output=True, text=True,
                                  timeout=280, check=False)
        assert done.returncode == 0, (f"notebook failed:\n{done.stderr[-6000:]}\n--- server log ---\n"
                                      f"{server.log_path.read_text()[-4000:]}")
        yield json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.stop()


def test_transform_answers_are_the_models(notebook: dict[str, Any]) -> None:
    assert notebook["transform_job"]["TransformJobStatus"] == "Completed"
    got = np.array([float(line) for line in notebook["transform_output"].splitlines()])
    reference = np.loadtxt(REFERENCE, delimiter=",", skiprows=1)[:, 1]
    assert got.shape == (334,)
    assert np.allclose(got, reference, atol=1e-6)


def test_capture_manifests_name_the_transforms_objects(notebook: dict[str, Any]) -> None:
    bucket = notebook["sample_input_content"][0]["prefix"].split("/")[2]
    assert notebook["sample_input_content"] == [{"prefix": f"s3://{bucket}/transform-input/"},
                                                "test-dataset-input-cols.csv"]
    output = notebook["transform_job"]["TransformOutput"]
    assert notebook["sample_output_content"][1:] == ["test-dataset-input-cols.csv.out"]
    assert notebook["sample_output_content"][0]["prefix"].rstrip("/") in output
    assert all("/datacapture/input/" in key or "/datacapture/output/" in key for key in notebook["captured_keys"])


def test_monitoring_execution_analyses_the_transformed_rows(notebook: dict[str, Any]) -> None:
    assert notebook["schedule_status"] in ("Pending", "Scheduled")
    assert notebook["baseline_features"] == 69
    assert notebook["execution_status"] == "Completed"
    assert {Path(f).name for f in notebook["report_files"]} >= {"statistics.json", "constraint_violations.json"}
    rows = np.loadtxt(MODELS / "test-dataset-input-cols.csv", delimiter=",")
    stats = notebook["statistics"]
    assert stats["dataset"]["item_count"] == len(rows) == 334
    means = [f["numerical_statistics"]["mean"] for f in stats["features"]]
    assert np.allclose(means, rows.mean(axis=0), rtol=1e-12)
    # The file's first row is pandas' mangled header (`0.1`, `0.2`, ...): every column integral in the baseline
    # data and not in these 334 rows breaks its data type check (1 of 334 rows), and nothing else is reported.
    training = DATA / "training-inputs-with-header.csv"
    names = training.read_text().splitlines()[0].split(",")
    baseline = np.loadtxt(training, delimiter=",", skiprows=1)
    integral = (baseline == np.round(baseline)).all(axis=0) & ~(rows == np.round(rows)).all(axis=0)
    expected = {name for name, flag in zip(names, integral, strict=True) if flag}
    assert len(expected) == 59
    assert {v["feature_name"] for v in notebook["violations"]} == expected
    assert {v["constraint_check_type"] for v in notebook["violations"]} == {"data_type_check"}

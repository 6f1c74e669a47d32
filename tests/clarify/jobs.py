"""Running the Clarify analyzer in-process as the worker would, under a job root of its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.toolkit.job_log import JobLog

CLARIFY_IMAGE = "205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0"


def clarify_job(root: Path, config: dict[str, Any], dataset: Path | None, *, model_url: str | None = None,
                environment: dict[str, str] | None = None) -> tuple[Any, Path]:
    """Lay out a Clarify processing job under `root`, run it; (summary, output folder)."""
    config_dir = root / "opt/ml/processing/input/config"
    data_dir = root / "opt/ml/processing/input/data"
    output = root / "opt/ml/processing/output"
    for folder in (config_dir, data_dir, output, root / "opt/ml/config", root / "opt/ml/output"):
        folder.mkdir(parents=True, exist_ok=True)
    (config_dir / "analysis_config.json").write_text(json.dumps(config))
    if dataset is not None:
        shutil.copy(dataset, data_dir / dataset.name)
    predictor = root / "opt/ml/config/predictor.json"
    predictor.write_text(json.dumps({"url": model_url, "model_name": "model"} if model_url else
                                    {"error": "no model server in this test"}))
    env = {"WATCHKEEPER_JOB_ROOT": str(root), "WATCHKEEPER_PREDICTOR": str(predictor), **(environment or {})}
    summary = run_environment(env, image_uri=CLARIFY_IMAGE, log=JobLog(),
                              message_file=root / "opt/ml/output/message")
    return summary, output


def message(root: Path) -> str:
    return (root / "opt/ml/output/message").read_text()

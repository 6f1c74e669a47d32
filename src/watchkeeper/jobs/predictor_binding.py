"""Which model a Clarify job calls, decided by the runner before the job starts (spec §10.1 "shadow endpoint").

Clarify starts a shadow endpoint from the analysis config's `predictor.model_name` and calls it. Watchkeeper
calls that model's own server instead (the URL its CreateModel registered, checked then by
services/upstream.py), and, for a monitoring job without `model_name`, the monitored endpoint's model. The
runner looks the model up in the job's own account and writes `/opt/ml/config/predictor.json` (the URL, or
the reason there is none, which the job reports if it needs the model); such a job gets network access.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from watchkeeper.jobs.contract import JobRoot
from watchkeeper.jobs.toolkit.clarify_config import read_config
from watchkeeper.jobs.toolkit.summary import JobFailed

CLARIFY_IMAGE = "sagemaker-clarify-processing"
CONFIG_INPUT = "/opt/ml/processing/input/config"
PREDICTOR_FILE = "/opt/ml/config/predictor.json"
PREDICTOR_ENV = "WATCHKEEPER_PREDICTOR"

# (account, region, model_name, endpoint_name) → the model server's URL; LookupError says why there is none.
ModelResolver = Callable[[str, str, str | None, str | None], str]


def is_clarify_image(image_uri: str) -> bool:
    return CLARIFY_IMAGE in image_uri


def _predictor_names(root: JobRoot, environment: Mapping[str, str]) -> tuple[str | None, str | None]:
    """`predictor.model_name` from the staged analysis config (read as the job reads it; a config the job will
    refuse names no model here), and the monitored endpoint's name."""
    model_name = None
    try:
        config = read_config(root.local(environment.get("analysis_config") or CONFIG_INPUT))
    except JobFailed:
        config = None
    if config is not None and config.predictor is not None:
        model_name = config.predictor.model_name
    return model_name, environment.get("sagemaker_endpoint_name") or None


def bind_predictor(root: JobRoot, environment: Mapping[str, str], account: str, region: str,
                   resolve: ModelResolver | None) -> str:
    """Write the job's predictor.json; the line the job log gets."""
    model_name, endpoint_name = _predictor_names(root, environment)
    target = root.local(PREDICTOR_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not model_name and not endpoint_name:
        target.write_text(json.dumps({"error": "the analysis config names no predictor model_name"}))
        return "Predictor: none named"
    if resolve is None:
        target.write_text(json.dumps({"error": "this runner has no model registry to find the model in"}))
        return "Predictor: no model registry"
    try:
        url = resolve(account, region, model_name, endpoint_name)
    except LookupError as exc:
        target.write_text(json.dumps({"error": str(exc.args[0] if exc.args else exc)}))
        return f"Predictor: {exc}"
    shown = model_name or f"the model of endpoint {endpoint_name}"
    target.write_text(json.dumps({"url": url, "model_name": model_name or endpoint_name or ""}))
    return f"Predictor: {shown} at {url}"

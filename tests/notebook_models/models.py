"""The notebooks' models by name, loaded from the repository's copies of their artifacts."""

from __future__ import annotations

from pathlib import Path

from tests.notebook_models import linear_learner, xgboost_legacy
from tests.notebook_models.ll_container import LinearLearnerContainer
from tests.notebook_models.xgb_container import XGBoostContainer

NOTEBOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks"
LINEAR_LEARNER_DIR = NOTEBOOKS / "sm-clarify_model_bias_monitor_for_endpoint"
XGBOOST_DIR = NOTEBOOKS / "sm-model_monitor_bias_and_explainability_monitoring"
LINEAR_LEARNER_TARBALL = LINEAR_LEARNER_DIR / "ll-adult-prediction-model.tar.gz"
XGBOOST_TARBALL = XGBOOST_DIR / "xgb-churn-prediction-model.tar.gz"
MODELS = ("linear-learner", "xgboost")

Container = LinearLearnerContainer | XGBoostContainer


def load_container(model: str, batch: bool = False) -> Container:
    """`batch`: answer as under batch transform (only the XGBoost container answers differently)."""
    if model == "linear-learner":
        return LinearLearnerContainer(linear_learner.load(LINEAR_LEARNER_TARBALL))
    if model == "xgboost":
        return XGBoostContainer(xgboost_legacy.load(XGBOOST_TARBALL), batch=batch)
    raise ValueError(f"unknown model {model!r}: one of {', '.join(MODELS)}")

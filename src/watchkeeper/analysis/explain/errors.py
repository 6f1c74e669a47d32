"""The one error bad explainability input raises: its message names the cause, for the job's FailureReason."""

from __future__ import annotations


class ExplainInputError(ValueError):
    """Records, background or model answers that Kernel SHAP cannot work with."""

"""Clarify-compatible explainability (spec §11): Kernel SHAP, its report, metric lines and attribution drift.

Pure computation: the model is a black-box `predict(rows) -> scores` the caller supplies (the Clarify job wraps
the model server's HTTP calls in it). docs/explainability.md says what was decided and why.
"""

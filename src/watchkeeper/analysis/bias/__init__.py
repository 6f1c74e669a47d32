"""Clarify-compatible bias metrics (spec §10; docs/bias.md): pure computation over a polars table.

config.py parses analysis_config.json; report.py computes analysis.json (inputs.py binarises labels and
splits facets, formulas.py holds the metric definitions, flip_test.py FT's k-NN); drift.py compares an
execution's analysis.json with the baseline's (`bias_drift_check`); metric_lines.py writes CloudWatch lines.
"""

"""The bias metrics Clarify reports: short name → the description it prints (its docstring's first line,
taken from a real AWS analysis.json; "Kullback-Liebler" is AWS's spelling). analysis.json lists each stage's
metrics in alphabetical order of the short name, as these tuples are."""

from __future__ import annotations

PRE_TRAINING: dict[str, str] = {
    "CDDL": "Conditional Demographic Disparity in Labels (CDDL)",
    "CI": "Class Imbalance (CI)",
    "DPL": "Difference in Positive Proportions in Labels (DPL)",
    "JS": "Jensen-Shannon Divergence (JS)",
    "KL": "Kullback-Liebler Divergence (KL)",
    "KS": "Kolmogorov-Smirnov Distance (KS)",
    "LP": "L-p Norm (LP)",
    "TVD": "Total Variation Distance (TVD)",
}

POST_TRAINING: dict[str, str] = {
    "AD": "Accuracy Difference (AD)",
    "CDDPL": "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
    "DAR": "Difference in Acceptance Rates (DAR)",
    "DCA": "Difference in Conditional Acceptance (DCA)",
    "DCR": "Difference in Conditional Rejection (DCR)",
    "DI": "Disparate Impact (DI)",
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
    "DRR": "Difference in Rejection Rates (DRR)",
    "FT": "Flip Test (FT)",
    "GE": "Generalized Entropy (GE)",
    "RD": "Recall Difference (RD)",
    "SD": "Specificity Difference (SD)",
    "TE": "Treatment Equality (TE)",
}

PRE_TRAINING_KEY = "pre_training_bias_metrics"
POST_TRAINING_KEY = "post_training_bias_metrics"

# Metrics whose neutral (unbiased) value is 1 rather than 0: the drift check measures distance from it.
NEUTRAL_AT_ONE = frozenset({"DI"})

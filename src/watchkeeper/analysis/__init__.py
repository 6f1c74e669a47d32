"""Data analysis: pure computation, no I/O of its own.

Capture records and datasets become string columns (`columns`), columns fold into mergeable per-column
states (`states`, `kll`, `types`), states render the `statistics.json` document (`statistics`), and every
document is written as AWS's Jackson pretty printer writes it (`aws_json`). Constraint suggestion, checks,
distances and metric lines live in `suggest`, `checks`, `distance` and `report`.
"""

"""CloudWatch metric lines of a bias analysis.json (spec §8): one per metric with a value, named
`bias_metric_<NAME>`, with the caller's dimensions (Endpoint, MonitoringSchedule) and BiasStage
(Pre-training / Post-training), Label, LabelValue, Facet, FacetValue. ±Infinity is published as
±2.348543e108 (CloudWatch takes no infinities); a null or NaN value is not published."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from watchkeeper.analysis.bias.names import POST_TRAINING_KEY, PRE_TRAINING_KEY

INFINITY_VALUE = 2.348543e108
STAGES = {PRE_TRAINING_KEY: "Pre-training", POST_TRAINING_KEY: "Post-training"}


def bias_metric_lines(document: Mapping[str, Any], *, dimensions: Mapping[str, str],
                      timestamp: str) -> list[dict[str, Any]]:
    lines = []
    for key, section in document.items():
        stage = STAGES.get(key)
        if stage is None or not isinstance(section, Mapping):
            continue
        common = [{"Name": name, "Value": value} for name, value in dimensions.items()]
        common += [{"Name": "BiasStage", "Value": stage}, {"Name": "Label", "Value": str(section.get("label"))},
                   {"Name": "LabelValue", "Value": str(section.get("label_value_or_threshold"))}]
        for facet, entries in (section.get("facets") or {}).items():
            for entry in entries or []:
                facet_dimensions = [*common, {"Name": "Facet", "Value": facet},
                                    {"Name": "FacetValue", "Value": str(entry.get("value_or_threshold"))}]
                for metric in entry.get("metrics") or []:
                    value = _published(metric.get("value"))
                    if value is None:
                        continue
                    lines.append({"MetricName": f"bias_metric_{metric['name']}", "Timestamp": timestamp,
                                  "Dimensions": [dict(d) for d in facet_dimensions], "Value": value})
    return lines


def _published(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    if math.isinf(value):
        return math.copysign(INFINITY_VALUE, value)
    return float(value)

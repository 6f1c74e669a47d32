"""What a Clarify job leaves in `/opt/ml/processing/output` and says when it ends: `analysis.json` (4-space
indented, as Clarify writes it), `constraint_violations.json` only when there are violations, `report.html`,
and the job's summary (message, status, result.json)."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchkeeper.analysis.result import RESULT_VERSION

ANALYSIS_FILE = "analysis.json"
VIOLATIONS_FILE = "constraint_violations.json"
REPORT_FILE = "report.html"
COMPLETED = "Completed"
WITH_VIOLATIONS = "CompletedWithViolations"


@dataclass
class ClarifySummary:
    """A Clarify job's outcome, in the registry's Outcome shape."""

    records: int
    violations: list[dict[str, Any]] | None = None
    bad_records: dict[str, int] = field(default_factory=dict)
    model_calls: int = 0
    outputs: list[str] = field(default_factory=list)
    skipped_records: dict[str, int] = field(default_factory=dict)  # read but not analysed (window, bounds)

    @property
    def status(self) -> str:
        return WITH_VIOLATIONS if self.violations else COMPLETED

    @property
    def message(self) -> str:
        if self.violations:
            return f"CompletedWithViolations: Job completed successfully with {len(self.violations)} violations."
        return "Completed: Job completed successfully with no violations."

    def result_document(self) -> dict[str, Any]:
        return {
            "version": RESULT_VERSION,
            "status": self.status,
            "item_count": self.records,
            "violations": len(self.violations or []),
            "bad_records": dict(self.bad_records),
            "skipped_records": dict(self.skipped_records),
            "model_calls": self.model_calls,
        }


def write_json(path: Path, document: dict[str, Any]) -> str:
    """4-space JSON with infinities as `Infinity`, as Clarify writes them (orjson would write null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=4, allow_nan=True), encoding="utf-8")
    return str(path)


def write_outputs(output: Path, analysis: dict[str, Any], violations: list[dict[str, Any]] | None,
                  title: str) -> list[str]:
    written = [write_json(output / ANALYSIS_FILE, analysis)]
    if violations:
        written.append(write_json(output / VIOLATIONS_FILE, {"version": "1.0", "violations": violations}))
    (output / REPORT_FILE).write_text(report_html(analysis, violations or [], title), encoding="utf-8")
    written.append(str(output / REPORT_FILE))
    return written


def _number(value: Any) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return f"{value:.6g}"
    return html.escape(str(value))


def report_html(analysis: dict[str, Any], violations: list[dict[str, Any]], title: str) -> str:
    """A self-contained page of the analysis: each metric table and each label's SHAP bars."""
    parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>",
             "<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}"
             ".bar{background:#4a7ebb;height:10px}</style>", f"<h1>{html.escape(title)}</h1>"]
    if violations:
        parts.append("<h2>Violations</h2><ul>")
        parts += [f"<li>{html.escape(str(v.get('metric_name', '')))}: {html.escape(str(v.get('description')))}</li>"
                  for v in violations]
        parts.append("</ul>")
    for stage in ("pre_training_bias_metrics", "post_training_bias_metrics"):
        section = analysis.get(stage)
        if not section:
            continue
        parts.append(f"<h2>{stage.replace('_', ' ').capitalize()}</h2>")
        for facet, entries in (section.get("facets") or {}).items():
            for entry in entries:
                parts.append(f"<h3>{html.escape(facet)} = {html.escape(str(entry.get('value_or_threshold')))}</h3>"
                             "<table><tr><th>Metric</th><th>Value</th></tr>")
                parts += [f"<tr><td>{html.escape(str(m.get('description') or m.get('name')))}</td>"
                          f"<td>{_number(m.get('value'))}</td></tr>" for m in entry.get("metrics") or []]
                parts.append("</table>")
    for method, labels in ((analysis.get("explanations") or {}).items()):
        for label, values in labels.items():
            shap = values.get("global_shap_values") or {}
            top = max((abs(v) for v in shap.values()), default=0) or 1
            parts.append(f"<h2>{html.escape(method)}: {html.escape(label)}</h2><table>")
            parts += [f"<tr><td>{html.escape(name)}</td><td>{_number(value)}</td><td><div class=bar "
                      f"style='width:{int(200 * abs(value) / top)}px'></div></td></tr>"
                      for name, value in sorted(shap.items(), key=lambda item: -abs(item[1]))]
            parts.append("</table>")
    return "\n".join(parts)

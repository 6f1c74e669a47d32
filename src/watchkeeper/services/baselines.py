"""A job definition's `BaselineConfig.BaseliningJobName`, resolved to the files that baselining job wrote.

The SDK's Clarify monitors name the baseline by its job (`suggest_baseline` then `create_monitoring_schedule`
without constraints), as DefaultModelMonitor may. When an execution starts, the named processing job of the same
account is looked up: it must have Completed; its first output holds `analysis.json` (ModelBias and
ModelExplainability: the constraints) or `constraints.json` and `statistics.json` (DataQuality, ModelQuality).
Resources given explicitly win.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from sqlalchemy import Connection

from watchkeeper.scheduling.execution_jobs import CannotPlan
from watchkeeper.services.context import RequestContext
from watchkeeper.services.lookup import find_named
from watchkeeper.storage import join_uri
from watchkeeper.store.tables import processing_jobs

CLARIFY_TYPES = frozenset({"ModelBias", "ModelExplainability"})


def resolve_baseline(conn: Connection, ctx: RequestContext, kind: str, definition: dict[str, Any]) -> dict[str, Any]:
    baseline = definition.get("BaselineConfig") or {}
    job_name = baseline.get("BaseliningJobName")
    if not job_name or baseline.get("ConstraintsResource"):
        return definition
    row = find_named(conn, processing_jobs, ctx, job_name)
    if row is None:
        raise CannotPlan(f"The baselining job {job_name} named by this schedule's BaselineConfig does not exist.")
    if row.status != "Completed":
        raise CannotPlan(f"The baselining job {job_name} is {row.status}; its baseline cannot be used.")
    outputs = [o for o in (orjson.loads(row.body).get("ProcessingOutputConfig") or {}).get("Outputs") or []
               if "S3Output" in o]
    if not outputs:
        raise CannotPlan(f"The baselining job {job_name} has no S3 output to take its baseline from.")
    folder = outputs[0]["S3Output"]["S3Uri"]
    resolved = copy.deepcopy(definition)
    config = resolved.setdefault("BaselineConfig", {})
    if kind in CLARIFY_TYPES:
        config["ConstraintsResource"] = {"S3Uri": join_uri(folder, "analysis.json")}
    else:
        config["ConstraintsResource"] = {"S3Uri": join_uri(folder, "constraints.json")}
        if kind == "DataQuality" and not config.get("StatisticsResource"):
            config["StatisticsResource"] = {"S3Uri": join_uri(folder, "statistics.json")}
    return resolved

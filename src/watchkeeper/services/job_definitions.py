"""Monitoring job definitions of the four types: create, describe, list, delete."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from watchkeeper.clock import Clock, millis
from watchkeeper.config import Settings
from watchkeeper.errors import ResourceInUse, ResourceLimitExceeded, ResourceNotFound, ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.echo import with_network_defaults
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.locations import check_locations
from watchkeeper.services.lookup import find_named
from watchkeeper.services.monitoring_types import MonitoringType
from watchkeeper.services.schedule_rules import check_offsets
from watchkeeper.services.tags import TagService
from watchkeeper.store import Database
from watchkeeper.store.tables import job_definitions, monitoring_schedules

# Members of Create<T>JobDefinition that are not part of the stored definition.
_NOT_STORED = ("JobDefinitionName", "Tags")


def definition_endpoint(kind: MonitoringType, body: dict[str, Any]) -> str | None:
    job_input = body.get(f"{kind.name}JobInput") or {}
    return (job_input.get("EndpointInput") or {}).get("EndpointName")


def _check_single_input(kind: MonitoringType, body: dict[str, Any]) -> None:
    job_input = body.get(f"{kind.name}JobInput") or {}
    given = [k for k in ("EndpointInput", "BatchTransformInput") if k in job_input]
    if len(given) != 1:
        raise ValidationError(
            f"{kind.name}JobInput must contain exactly one of EndpointInput or BatchTransformInput; found {len(given)}"
        )


class JobDefinitionService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, tags: TagService) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.tags = tags

    def create(self, ctx: RequestContext, kind: MonitoringType, params: dict[str, Any]) -> str:
        name = params["JobDefinitionName"]
        body = {k: v for k, v in params.items() if k not in _NOT_STORED}
        _check_single_input(kind, body)
        check_locations(f"Create{kind.name}JobDefinition", params)
        check_offsets(body[f"{kind.name}JobInput"])
        arn = ctx.arn(kind.arn_type, name)
        try:
            with self.db.write() as conn:
                # Buckets are claimed (or refused as another account's) with the definition, or not at all.
                check_locations(f"Create{kind.name}JobDefinition", params, conn, ctx)
                scope = and_(job_definitions.c.account == ctx.account, job_definitions.c.region == ctx.region)
                count = conn.execute(select(func.count()).select_from(job_definitions).where(scope)).scalar_one()
                if count >= self.settings.max_job_definitions:
                    raise ResourceLimitExceeded(
                        f"The account-level service limit 'Total number of monitoring job definitions' is "
                        f"{self.settings.max_job_definitions}, with current utilization of {count}"
                    )
                conn.execute(
                    insert(job_definitions).values(
                        account=ctx.account,
                        region=ctx.region,
                        monitoring_type=kind.name,
                        name=name,
                        name_key=name.lower(),
                        arn=arn,
                        creation_time=millis(self.clock.now()),
                        body=orjson.dumps(body).decode(),
                        endpoint_name=definition_endpoint(kind, body),
                    )
                )
                self.tags.put(conn, arn, params.get("Tags", []))
        except IntegrityError:
            raise ResourceInUse(f"Job definition with name {name} already exists") from None
        return arn

    def find(self, conn: Connection, ctx: RequestContext, kind: MonitoringType, name: str) -> Row[Any]:
        row = find_named(conn, job_definitions, ctx, name, monitoring_type=kind.name)
        if row is None:
            raise ResourceNotFound(f"Could not find {kind.name} job definition '{name}'")
        return row

    def describe(self, ctx: RequestContext, kind: MonitoringType, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self.find(conn, ctx, kind, name)
        body = orjson.loads(row.body)
        if "NetworkConfig" in body:
            body["NetworkConfig"] = with_network_defaults(body["NetworkConfig"])
        return {
            "JobDefinitionArn": row.arn,
            "JobDefinitionName": row.name,
            "CreationTime": row.creation_time,
            **body,
        }

    def delete(self, ctx: RequestContext, kind: MonitoringType, name: str) -> None:
        with self.db.write() as conn:
            row = self.find(conn, ctx, kind, name)
            users = (
                conn.execute(
                    select(monitoring_schedules.c.name).where(
                        monitoring_schedules.c.account == ctx.account,
                        monitoring_schedules.c.region == ctx.region,
                        monitoring_schedules.c.monitoring_type == kind.name,
                        func.lower(monitoring_schedules.c.job_definition_name) == name.lower(),
                    )
                )
                .scalars()
                .all()
            )
            if users:
                raise ResourceInUse(
                    f"Job definition {row.name} is used by monitoring schedule(s) {', '.join(users)}; delete them first"
                )
            conn.execute(delete(job_definitions).where(job_definitions.c.id == row.id))
            self.tags.drop_all(conn, row.arn)

    def list(self, ctx: RequestContext, kind: MonitoringType, params: dict[str, Any]) -> dict[str, Any]:
        t = job_definitions
        conditions = list_filters(
            t, ctx, params, times={"CreationTime": t.c.creation_time}, names={"EndpointName": t.c.endpoint_name}
        )
        conditions.append(t.c.monitoring_type == kind.name)
        with self.db.read() as conn:
            page = paginate(
                conn,
                select(t.c.name, t.c.arn, t.c.creation_time, t.c.endpoint_name).where(*conditions),
                params,
                {"Name": t.c.name, "CreationTime": t.c.creation_time},
                t.c.id,
            )
        summaries = []
        for row in page.rows:
            summary = {
                "MonitoringJobDefinitionName": row.name,
                "MonitoringJobDefinitionArn": row.arn,
                "CreationTime": row.creation_time,
            }
            if row.endpoint_name:
                summary["EndpointName"] = row.endpoint_name
            summaries.append(summary)
        return page.result("JobDefinitionSummaries", summaries)

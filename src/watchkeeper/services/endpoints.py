"""Models, endpoint configs and endpoints: what InvokeEndpoint routes to and where its capture goes.

A model names the user's inference server in `PrimaryContainer.Environment["WATCHKEEPER_UPSTREAM_URL"]`
(SageMaker's container contract: `POST /invocations`, `GET /ping`). A model without one gives an endpoint
that serves no traffic but still says where its capture lives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from watchkeeper.clock import Clock, millis
from watchkeeper.config import Settings
from watchkeeper.errors import ValidationError
from watchkeeper.services.context import RequestContext
from watchkeeper.services.deployments import UPSTREAM_ENV, Deployment, Variant, retained, reweighted, upstream_of
from watchkeeper.services.endpoint_rules import check_endpoint_config, desired_changes
from watchkeeper.services.listing import list_filters, paginate
from watchkeeper.services.locations import check_locations
from watchkeeper.services.lookup import find_named
from watchkeeper.services.named_resources import NamedResources
from watchkeeper.services.tags import TagService
from watchkeeper.services.upstream import UpstreamError, check_upstream, parse_allow_list
from watchkeeper.store import Database
from watchkeeper.store.tables import endpoint_configs, endpoints, models

log = logging.getLogger(__name__)

CREATING, UPDATING, IN_SERVICE, FAILED = "Creating", "Updating", "InService", "Failed"

# Answers GET <upstream>/ping with True when the model server is healthy.
Pinger = Callable[[str], bool]


class EndpointService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, tags: TagService) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.tags = tags
        # Endpoint id → the database fault last logged for it (logged once while it repeats).
        self._reported: dict[int, str] = {}
        self.models = NamedResources(db, clock, tags, models, arn_type="model", noun="model", member="Model")
        self.configs = NamedResources(
            db,
            clock,
            tags,
            endpoint_configs,
            arn_type="endpoint-config",
            noun="endpoint configuration",
            member="EndpointConfig",
        )

    # --- models and configs ----------------------------------------------------------------------

    def create_model(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        body = {k: v for k, v in params.items() if k not in ("ModelName", "Tags")}
        if not body.get("PrimaryContainer") and not body.get("Containers"):
            raise ValidationError("CreateModel needs PrimaryContainer or Containers")
        url = upstream_of(body)
        if url is not None:
            try:
                check_upstream(url, parse_allow_list(self.settings.upstream_allow))
            except UpstreamError as exc:
                raise ValidationError(f"Environment {UPSTREAM_ENV}: {exc}") from None
        with self.db.write() as conn:
            arn = self.models.insert(conn, ctx, params["ModelName"], body)
            self.tags.put(conn, arn, params.get("Tags", []))
        return arn

    def create_endpoint_config(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        body = {k: v for k, v in params.items() if k not in ("EndpointConfigName", "Tags")}
        check_endpoint_config(body)
        check_locations("CreateEndpointConfig", params)
        with self.db.write() as conn:
            # The capture bucket is claimed (or refused as another account's) with the config, or not at all.
            check_locations("CreateEndpointConfig", params, conn, ctx)
            for variant in body["ProductionVariants"]:
                if "ModelName" not in variant:
                    raise ValidationError(f"Production variant {variant['VariantName']} names no ModelName")
                self.models.find(conn, ctx, variant["ModelName"])
            arn = self.configs.insert(conn, ctx, params["EndpointConfigName"], body)
            self.tags.put(conn, arn, params.get("Tags", []))
        return arn

    # --- endpoints -------------------------------------------------------------------------------

    def _deployment(self, conn: Connection, ctx: RequestContext, config_name: str) -> Deployment:
        config_row = self.configs.find(conn, ctx, config_name)
        config = orjson.loads(config_row.body)
        variants = []
        for variant in config["ProductionVariants"]:
            model = orjson.loads(self.models.find(conn, ctx, variant["ModelName"]).body)
            primary = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
            variants.append(
                Variant(
                    name=variant["VariantName"],
                    model_name=variant["ModelName"],
                    weight=float(variant.get("InitialVariantWeight", 1.0)),
                    instance_count=int(variant.get("InitialInstanceCount", 1)),
                    image=primary.get("Image"),
                    upstream_url=upstream_of(model),
                )
            )
        return Deployment(config_row.name, tuple(variants), config.get("DataCaptureConfig"))

    def _find(self, conn: Connection, ctx: RequestContext, name: str) -> Row[Any]:
        row = find_named(conn, endpoints, ctx, name)
        if row is None:
            raise ValidationError(f'Could not find endpoint "{ctx.arn("endpoint", name)}".')
        return row

    def find(self, ctx: RequestContext, name: str) -> Row[Any]:
        with self.db.read() as conn:
            return self._find(conn, ctx, name)

    def create(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        name = params["EndpointName"]
        arn = ctx.arn("endpoint", name)
        now = self.clock.now()
        try:
            with self.db.write() as conn:
                deployment = self._deployment(conn, ctx, params["EndpointConfigName"])
                conn.execute(
                    insert(endpoints).values(
                        account=ctx.account,
                        region=ctx.region,
                        name=name,
                        name_key=name.lower(),
                        arn=arn,
                        config_name=deployment.config_name,
                        status=CREATING,
                        creation_time=millis(now),
                        last_modified_time=millis(now),
                        deployment=deployment.to_json(),
                        pending_deployment=deployment.to_json(),
                        deadline=now + self.settings.endpoint_startup_seconds,
                    )
                )
                self.tags.put(conn, arn, params.get("Tags", []))
        except IntegrityError:
            raise ValidationError(f'Cannot create already existing endpoint "{arn}".') from None
        return arn

    def update(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        now = self.clock.now()
        with self.db.write() as conn:
            row = self._find(conn, ctx, params["EndpointName"])
            if row.status != IN_SERVICE:
                raise ValidationError(f'Cannot update in-progress endpoint "{row.arn}".')
            new = self._deployment(conn, ctx, params["EndpointConfigName"])
            if params.get("RetainAllVariantProperties"):
                new = retained(Deployment.from_json(row.deployment), new, params)
            conn.execute(
                update(endpoints)
                .where(endpoints.c.id == row.id)
                .values(
                    status=UPDATING,
                    failure_reason=None,
                    last_modified_time=millis(now),
                    pending_deployment=new.to_json(),
                    deadline=now + self.settings.endpoint_startup_seconds,
                )
            )
        return row.arn

    def update_weights(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        """UpdateEndpointWeightsAndCapacities: Updating, then InService with the new weights and counts."""
        now = self.clock.now()
        with self.db.write() as conn:
            row = self._find(conn, ctx, params["EndpointName"])
            old = Deployment.from_json(row.deployment)
            changes = desired_changes(params, [v.name for v in old.variants], row.config_name)
            if row.status != IN_SERVICE:
                raise ValidationError(f'Cannot update in-progress endpoint "{row.arn}".')
            new = reweighted(old, changes)
            conn.execute(
                update(endpoints)
                .where(endpoints.c.id == row.id)
                .values(
                    status=UPDATING,
                    failure_reason=None,
                    last_modified_time=millis(now),
                    pending_deployment=new.to_json(),
                    deadline=now + self.settings.endpoint_startup_seconds,
                )
            )
        return row.arn

    def delete(self, ctx: RequestContext, name: str) -> None:
        with self.db.write() as conn:
            row = self._find(conn, ctx, name)
            conn.execute(delete(endpoints).where(endpoints.c.id == row.id))
            self.tags.drop_all(conn, row.arn)

    def describe(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        row = self.find(ctx, name)
        deployment = Deployment.from_json(row.deployment)
        # While an update runs, Desired* are the pending deployment's and Current* what still serves.
        pending = {}
        if row.status == UPDATING and row.pending_deployment:
            pending = {v.name.lower(): v for v in Deployment.from_json(row.pending_deployment).variants}
        result: dict[str, Any] = {
            "EndpointName": row.name,
            "EndpointArn": row.arn,
            "EndpointConfigName": row.config_name,
            "EndpointStatus": row.status,
            "CreationTime": row.creation_time,
            "LastModifiedTime": row.last_modified_time,
            "ProductionVariants": [_variant_summary(v, row.creation_time, pending) for v in deployment.variants],
        }
        if deployment.data_capture:
            result["DataCaptureConfig"] = _capture_summary(deployment.data_capture)
        if row.failure_reason:
            result["FailureReason"] = row.failure_reason
        return result

    def list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        t = endpoints
        conditions = list_filters(
            t,
            ctx,
            params,
            times={"CreationTime": t.c.creation_time, "LastModifiedTime": t.c.last_modified_time},
            equals={"StatusEquals": t.c.status},
        )
        with self.db.read() as conn:
            page = paginate(
                conn,
                select(t).where(*conditions),
                params,
                {"Name": t.c.name, "CreationTime": t.c.creation_time, "Status": t.c.status},
                t.c.id,
            )
        return page.result(
            "Endpoints",
            [
                {
                    "EndpointName": r.name,
                    "EndpointArn": r.arn,
                    "CreationTime": r.creation_time,
                    "LastModifiedTime": r.last_modified_time,
                    "EndpointStatus": r.status,
                }
                for r in page.rows
            ],
        )

    def advance(self, ping: Pinger) -> int:
        """Creating/Updating → InService once every model server answers /ping; Failed after the deadline.

        Each endpoint on its own: a ping that raises counts as unhealthy, an endpoint whose stored deployment
        cannot be read is Failed (a failed update rolls back) with the reason, and a database fault is logged
        once and retried at the next call, while the other endpoints advance."""
        with self.db.read() as conn:
            waiting = conn.execute(select(endpoints).where(endpoints.c.status.in_([CREATING, UPDATING]))).all()
        changed = 0
        for row in waiting:
            try:
                changed += self._advance_one(row, ping)
            except SQLAlchemyError as exc:
                self._report(row, f"{type(exc).__name__}: {exc}")
            except Exception as exc:
                reason = f"Watchkeeper could not bring the endpoint into service: {type(exc).__name__}: {exc}"
                try:
                    changed += self._finish(
                        row,
                        {"status": FAILED if row.status == CREATING else IN_SERVICE, "failure_reason": reason[:1024]},
                    )
                except SQLAlchemyError as db_exc:
                    self._report(row, f"{type(db_exc).__name__}: {db_exc}")
                else:
                    log.error("endpoint %s failed: %s", row.name, reason)
            else:
                self._reported.pop(row.id, None)
        return changed

    def _advance_one(self, row: Row[Any], ping: Pinger) -> int:
        now = self.clock.now()
        pending = Deployment.from_json(row.pending_deployment)
        unhealthy = [v for v in pending.variants if v.upstream_url and not _answers(ping, v.upstream_url)]
        if not unhealthy:
            values: dict[str, Any] = {
                "status": IN_SERVICE,
                "deployment": row.pending_deployment,
                "config_name": pending.config_name,
            }
        elif now >= row.deadline:
            variant = unhealthy[0]
            reason = (
                f"The primary container for production variant {variant.name} did not pass the ping health "
                f"check: {variant.upstream_url}/ping did not answer 200 within "
                f"{self.settings.endpoint_startup_seconds:g} seconds."
            )
            # A failed update rolls back to what was serving (as SageMaker does); a failed create is Failed.
            values = {
                "status": FAILED if row.status == CREATING else IN_SERVICE,
                "failure_reason": reason,
            }
        else:
            return 0
        return self._finish(row, values)

    def _finish(self, row: Row[Any], values: dict[str, Any]) -> int:
        with self.db.write() as conn:
            result = conn.execute(
                update(endpoints)
                .where(endpoints.c.id == row.id, endpoints.c.status == row.status)
                .values(pending_deployment=None, deadline=None, last_modified_time=millis(self.clock.now()), **values)
            )
            return int(result.rowcount)

    def _report(self, row: Row[Any], text: str) -> None:
        """A database fault for one endpoint, logged once while it repeats call after call."""
        if self._reported.get(row.id) != text:
            self._reported[row.id] = text
            log.error("advancing endpoint %s failed (retried, logged once): %s", row.name, text)


def _answers(ping: Pinger, url: str) -> bool:
    try:
        return ping(url)
    except Exception:  # a pinger that raises means "not healthy", never a fault of the other endpoints
        return False


def _variant_summary(variant: Variant, deployed_at: float, pending: dict[str, Variant]) -> dict[str, Any]:
    desired = pending.get(variant.name.lower(), variant)
    summary: dict[str, Any] = {
        "VariantName": variant.name,
        "CurrentWeight": variant.weight,
        "DesiredWeight": desired.weight,
        "CurrentInstanceCount": variant.instance_count,
        "DesiredInstanceCount": desired.instance_count,
    }
    if variant.image:
        summary["DeployedImages"] = [
            {"SpecifiedImage": variant.image, "ResolvedImage": variant.image, "ResolutionTime": deployed_at}
        ]
    return summary


def _capture_summary(config: dict[str, Any]) -> dict[str, Any]:
    enabled = bool(config.get("EnableCapture", True))
    return {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": config.get("InitialSamplingPercentage", 100),
        "DestinationS3Uri": config["DestinationS3Uri"],
        "KmsKeyId": config.get("KmsKeyId", ""),
    }

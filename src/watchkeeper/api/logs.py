"""CloudWatch Logs (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Operation>`), only what the SageMaker SDK's
`logs=True` reads: DescribeLogStreams and GetLogEvents over processing-job logs (services/job_logs.py).

It shares `POST /` with the SageMaker control plane; users point the SDK's Logs client here with
`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` (docs/sdk.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import botocore.session
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from watchkeeper.api.awsjson import error_response, json_response, new_request_id
from watchkeeper.api.edge import request_context
from watchkeeper.api.validation import validate_input
from watchkeeper.errors import AwsError, InternalFailure, SerializationError, UnknownOperation
from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext
from watchkeeper.services.job_logs import JobLogService

log = logging.getLogger(__name__)

TARGET_PREFIX = "Logs_20140328."

LogsHandler = Callable[[JobLogService, RequestContext, dict[str, Any]], dict[str, Any]]


def _group(p: dict[str, Any]) -> str:
    # logGroupIdentifier may be an ARN: `arn:aws:logs:<region>:<account>:log-group:<name>`.
    identifier = p.get("logGroupIdentifier") or ""
    return p.get("logGroupName") or identifier.split(":log-group:", 1)[-1].removesuffix(":*")


def describe_log_streams(logs: JobLogService, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"logStreams": logs.streams(ctx, _group(p), p.get("logStreamNamePrefix", ""))}


def get_log_events(logs: JobLogService, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
    page = logs.events(
        ctx,
        _group(p),
        p["logStreamName"],
        start_time=p.get("startTime"),
        end_time=p.get("endTime"),
        token=p.get("nextToken"),
        limit=p.get("limit"),
        from_head=bool(p.get("startFromHead")),
    )
    return {"events": page.events, "nextForwardToken": page.forward, "nextBackwardToken": page.backward}


OPERATIONS: dict[str, LogsHandler] = {
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
}


class LogsApi:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.logs = JobLogService(services.processing_jobs, services.store, services.settings.jobs_dir)
        self.model = botocore.session.get_session().get_service_model("logs")

    async def handle(self, request: Request) -> Response:
        request_id = new_request_id()
        try:
            name = request.headers.get("x-amz-target", "")[len(TARGET_PREFIX) :]
            handler = OPERATIONS.get(name)
            if handler is None:
                raise UnknownOperation(f"CloudWatch Logs operation '{name}' is not served by Watchkeeper")
            body = await request.body()
            try:
                params = orjson.loads(body) if body.strip() else {}
            except orjson.JSONDecodeError as exc:
                raise SerializationError(f"Request body is not valid JSON: {exc}") from None
            validated = validate_input(self.model.operation_model(name).input_shape, params)
            ctx = request_context(request)
            # Reads a file or an object: off the event loop.
            result = await run_in_threadpool(handler, self.logs, ctx, validated)
        except AwsError as error:
            return error_response(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return error_response(InternalFailure("Internal server error"), request_id)
        return json_response(result, request_id)

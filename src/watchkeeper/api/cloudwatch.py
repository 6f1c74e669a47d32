"""CloudWatch (`monitoring`): PutMetricData, ListMetrics, GetMetricStatistics, GetMetricData, and the metric
alarm calls PutMetricAlarm, DescribeAlarms, DeleteAlarms, SetAlarmState, DescribeAlarmHistory.

botocore's model lists smithy-rpc-v2-cbor, json and query for CloudWatch; botocore picks the first it
supports in its own order, `json`: AWS JSON 1.0, `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
`Content-Type: application/x-amz-json-1.0` and `x-amzn-query-mode: true` (docs/cloudwatch.md). It shares `POST /`
with the SageMaker control plane, told apart by the target. Errors carry the query code in
`x-amzn-query-error`, as CloudWatch sends them, so botocore reports `InvalidParameterValue` and friends.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from typing import Any

import botocore.session
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from watchkeeper.api.awsjson import new_request_id
from watchkeeper.api.edge import request_context
from watchkeeper.api.validation import validate_input
from watchkeeper.errors import AwsError, InternalFailure, SerializationError, UnknownOperation, ValidationError
from watchkeeper.metrics.alarms import AlarmService
from watchkeeper.metrics.errors import CloudWatchError
from watchkeeper.metrics.queries import MetricsService
from watchkeeper.services.context import RequestContext

log = logging.getLogger(__name__)

TARGET_PREFIX = "GraniteServiceVersion20100801."
CONTENT_TYPE = "application/x-amz-json-1.0"
# botocore gzips PutMetricData bodies over 10 KB (the operation's requestCompression trait). The edge bounds
# and verifies the compressed body; what it inflates to is bounded here.
MAX_INFLATED_BYTES = 8 * 1024 * 1024

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]


def _wire(error: AwsError) -> tuple[str, str | None]:
    """(`__type`, query code or None) of an error."""
    if isinstance(error, CloudWatchError):
        return error.shape, error.code
    if isinstance(error, ValidationError):
        return "ValidationException", "ValidationError"
    if isinstance(error, InternalFailure):
        return "InternalServiceFault", "InternalServiceError"
    return error.code, None


def error_response(error: AwsError, request_id: str) -> Response:
    shape, query_code = _wire(error)
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": shape}
    if query_code:
        headers["x-amzn-query-error"] = f"{query_code};{'Receiver' if error.status >= 500 else 'Sender'}"
    body = orjson.dumps({"__type": shape, "message": error.message[:1024]})
    return Response(body, status_code=error.status, media_type=CONTENT_TYPE, headers=headers)


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # gzip framing
    try:
        inflated = inflater.decompress(body, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise SerializationError(f"Request body is not valid gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValidationError(f"Request body inflates to more than {MAX_INFLATED_BYTES} bytes.")
    return inflated


class CloudWatchApi:
    def __init__(self, metrics: MetricsService, alarms: AlarmService) -> None:
        self.metrics = metrics
        self.alarms = alarms
        self.handlers: dict[str, Handler] = {
            "PutMetricData": metrics.put_metric_data,
            "ListMetrics": metrics.list_metrics,
            "GetMetricStatistics": metrics.get_metric_statistics,
            "GetMetricData": metrics.get_metric_data,
            "PutMetricAlarm": alarms.put_metric_alarm,
            "DescribeAlarms": alarms.describe_alarms,
            "DeleteAlarms": alarms.delete_alarms,
            "SetAlarmState": alarms.set_alarm_state,
            "DescribeAlarmHistory": alarms.describe_alarm_history,
        }
        self.model = botocore.session.get_session().get_service_model("cloudwatch")
        self.operations = set(self.model.operation_names)

    async def handle(self, request: Request) -> Response:
        request_id = new_request_id()
        try:
            name = request.headers.get("x-amz-target", "")[len(TARGET_PREFIX) :]
            handler = self.handlers.get(name)
            if handler is None:
                if name in self.operations:
                    raise UnknownOperation(
                        f"CloudWatch operation '{name}' is not supported by Watchkeeper yet (docs/cloudwatch.md)"
                    )
                raise UnknownOperation(f"Operation '{name}' does not exist in the CloudWatch API")
            body = await request.body()
            if request.headers.get("content-encoding", "").strip().lower() == "gzip":
                body = _gunzip(body)
            try:
                params = orjson.loads(body) if body.strip() else {}
            except orjson.JSONDecodeError as exc:
                raise SerializationError(f"Request body is not valid JSON: {exc}") from None
            validated = validate_input(self.model.operation_model(name).input_shape, params)
            ctx = request_context(request)
            # Aggregation over many points, or a write that may wait for the lock: off the event loop.
            result = await run_in_threadpool(handler, ctx, validated)
        except AwsError as error:
            return error_response(error, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return error_response(InternalFailure("Internal server error"), request_id)
        return Response(orjson.dumps(result), media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})

"""AWS JSON 1.1 wire details: target header, region from SigV4, response and error bodies."""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson
from starlette.responses import Response

from watchkeeper.errors import AwsError

CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[a-z0-9-]{1,32})/")


def new_request_id() -> str:
    return str(uuid.uuid4())


def region_from_authorization(authorization: str | None, default: str) -> str:
    """SigV4 puts the region in the credential scope: `Credential=AKID/20240101/us-east-1/sagemaker/...`."""
    if authorization:
        match = _CREDENTIAL_SCOPE.search(authorization)
        if match:
            return match["region"]
    return default


def json_response(body: dict[str, Any], request_id: str, extra_headers: dict[str, str] | None = None) -> Response:
    headers = {"x-amzn-RequestId": request_id, **(extra_headers or {})}
    return Response(orjson.dumps(body), status_code=200, media_type=CONTENT_TYPE, headers=headers)


def error_response(error: AwsError, request_id: str) -> Response:
    body = {"__type": error.code, "message": error.message[:1024]}
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code},
    )

"""SigV4 for raw httpx requests, signed by botocore exactly as boto3 signs its own."""

from __future__ import annotations

from collections.abc import Generator

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed_headers(
    method: str, url: str, body: bytes, headers: dict[str, str], keys: tuple[str, str],
    service: str = "sagemaker", region: str = "us-east-1",
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(*keys), service, region).add_auth(request)
    return dict(request.headers.items())


class SigV4(httpx.Auth):
    """httpx auth that signs each request (its body must be in memory)."""

    def __init__(self, keys: tuple[str, str], service: str = "sagemaker", region: str = "us-east-1") -> None:
        self.keys, self.service, self.region = keys, service, region

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "user-agent")}
        for name, value in signed_headers(
            request.method, str(request.url), body, headers, self.keys, self.service, self.region
        ).items():
            request.headers[name] = value
        yield request

"""Calls to a transform job's model server (SageMaker's container contract): `POST /invocations` with the job's
ContentType and Accept, its timeout and retries (ModelClientConfig), and `GET /execution-parameters`, which a
container may answer to say how it likes to be called (AWS asks it when the request leaves values out).

URLs are joined by path (services/upstream.py); redirects are never followed; an answer is bounded.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from watchkeeper.services.upstream import upstream_path

MAX_ANSWER_BYTES = 256 * 1024 * 1024
RETRY_PAUSE_SECONDS = 0.2


class ModelCallFailed(Exception):
    """The model server did not answer a payload successfully (after the retries)."""


class ModelClient:
    def __init__(self, base_url: str, content_type: str | None, accept: str | None, timeout: float,
                 retries: int, concurrency: int) -> None:
        self.url = upstream_path(base_url, "invocations")
        self.base_url = base_url
        self.headers = {}
        if content_type:
            self.headers["Content-Type"] = content_type
        if accept:
            self.headers["Accept"] = accept
        self.retries = retries
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), limits=limits,
                                 follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def invoke(self, payload: bytes) -> bytes:
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(RETRY_PAUSE_SECONDS * 2 ** (attempt - 1))
            try:
                with self.http.stream("POST", self.url, content=payload, headers=self.headers) as response:
                    body = _read_capped(response)
                    if response.status_code < 300:
                        return body
                    text = body[:300].decode("utf-8", "replace").strip()
                    problem = f"the model server answered {response.status_code}: {text}"
                    if 300 <= response.status_code < 400:
                        break  # a redirect is not an answer, and retrying will not change it
            except (httpx.HTTPError, OSError) as exc:
                problem = f"the model server could not be reached: {exc.__class__.__name__}: {exc}"
            except ModelCallFailed as exc:
                problem = str(exc)
                break
        raise ModelCallFailed(problem)

    def execution_parameters(self) -> dict[str, Any]:
        """The container's `GET /execution-parameters` answer, or {} when it has none."""
        try:
            response = self.http.get(upstream_path(self.base_url, "execution-parameters"), timeout=5.0)
            if response.status_code != 200:
                return {}
            value = orjson.loads(response.content)
        except (httpx.HTTPError, OSError, orjson.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}


def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ModelCallFailed(f"the model server's answer exceeds {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

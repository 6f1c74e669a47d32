"""Bounds at the edge: bodies, stalled and idle connections, concurrent connections, model-server answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.endpoint_helpers import FAST_ENV, deploy
from tests.server_process import ServerProcess
from watchkeeper.services.upstream import upstream_path

TIMEOUT = 1.0  # the server's request timeout in these tests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_url: str) -> Iterator[ServerProcess]:
    port = model_url.rsplit(":", 1)[1]
    env = {
        **FAST_ENV,
        "WATCHKEEPER_REQUEST_TIMEOUT_SECONDS": str(TIMEOUT),
        "WATCHKEEPER_MAX_REQUEST_BYTES": str(64 * 1024),
        "WATCHKEEPER_MAX_CONNECTIONS": "8",
        "WATCHKEEPER_MAX_INFLIGHT_BODY_MB": "1",
        "WATCHKEEPER_UPSTREAM_ALLOW": f"127.0.0.1:{port}",
    }
    process = ServerProcess(tmp_path_factory.mktemp("bounds"), env=env).start()
    yield process
    process.stop()


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def head(length: int | None, path: str = "/", extra: str = "") -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SageMaker.ListModels\r\n"
        f"Content-Type: application/x-amz-json-1.1\r\n{size}{extra}\r\n"
    ).encode()


def test_declared_oversized_body_is_refused_before_it_is_sent(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(head(100_000_000))
        answer = read_all(sock)  # the server answers and closes without waiting for 100 MB
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"__type":"ValidationException"' in answer and b"exceeds the limit of 65536 bytes" in answer


def test_streamed_oversized_body_is_cut_off(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(head(None))
        chunk = b"x" * 16384
        for _ in range(5):  # 80 KiB with no declared length, past the 64 KiB bound
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413")


def test_body_that_never_arrives_times_out(server: ServerProcess) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head(100) + b'{"Max')
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < TIMEOUT + 3


@pytest.mark.parametrize("sent", [b"", b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar"])
def test_stalled_or_idle_connections_are_closed(server: ServerProcess, sent: bytes) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(sent)
        assert read_all(sock) == b""  # closed by the server
    assert time.monotonic() - started < TIMEOUT + 3


def test_endless_headers_are_refused(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        try:
            for i in range(2000):  # 2000 x 100 bytes: past the 64 KiB head bound
                sock.sendall(f"X-Padding-{i}: {'p' * 80}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = read_all(sock)
        except ConnectionResetError:
            answer = b"reset"
    assert answer.startswith((b"HTTP/1.1 400", b"reset"))


def test_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(head(2) + b"{}")
        started = time.monotonic()
        answer = read_all(sock)  # the answer, then the server closes the idle connection
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"Models":[]}')
    assert time.monotonic() - started < 8  # uvicorn's keep-alive timeout (5 s by default)


def test_connections_beyond_the_bound_are_turned_away(server: ServerProcess) -> None:
    held = [connect(server) for _ in range(8)]
    try:
        for sock in held:
            sock.sendall(b"POST / HTTP/1.1\r\n")  # half a head: each holds a connection
        time.sleep(0.2)
        response = httpx.post(f"{server.url}/", content=b"{}", headers={"X-Amz-Target": "SageMaker.ListModels"})
        assert response.status_code == 503
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.post(f"{server.url}/", content=b"{}", headers={"X-Amz-Target": "SageMaker.ListModels"}).is_success


def test_model_server_urls_are_checked(server: ServerProcess, model_url: str) -> None:
    sm = server.client()
    for url, reason in (
        (f"{model_url}/internal?", "must not have a query or fragment"),
        (f"{model_url}/internal#", "must not have a query or fragment"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:pw@127.0.0.1:1", "user information"),
        ("http://10.0.0.1:8080", "is not in WATCHKEEPER_UPSTREAM_ALLOW"),
    ):
        with pytest.raises(ClientError) as caught:
            sm.create_model(
                ModelName="bad-upstream",
                PrimaryContainer={"Image": "i", "Environment": {"WATCHKEEPER_UPSTREAM_URL": url}},
                ExecutionRoleArn="arn:aws:iam::123456789012:role/R",
            )
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert reason in caught.value.response["Error"]["Message"], url
    assert sm.list_models(NameContains="bad-upstream")["Models"] == []


def test_upstream_paths_are_joined_not_concatenated() -> None:
    assert upstream_path("http://h:1", "invocations") == "http://h:1/invocations"
    assert upstream_path("http://h:1/models/a/", "ping") == "http://h:1/models/a/ping"
    # A URL stored before create-time checks existed still cannot swallow the path.
    assert upstream_path("http://h:1/admin?x=", "invocations") == "http://h:1/admin/invocations"
    assert upstream_path("http://h:1/admin#", "invocations") == "http://h:1/admin/invocations"


def test_a_redirect_from_the_model_server_is_a_model_error(server: ServerProcess, model_url: str) -> None:
    sm, runtime = server.client(), server.client("sagemaker-runtime")
    deploy(sm, "redirecting", model_url)
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="redirecting", Body=b"redirect", ContentType="text/csv")
    assert caught.value.response["Error"]["Code"] == "ModelError"
    assert caught.value.response["OriginalStatusCode"] == 302
    assert "internal secret" not in str(caught.value.response)


def test_oversized_model_answer_is_a_model_error(server: ServerProcess, model_url: str) -> None:
    sm, runtime = server.client(), server.client("sagemaker-runtime")
    deploy(sm, "huge-answer", model_url)
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="huge-answer", Body=b"huge", ContentType="text/csv")
    error = caught.value.response["Error"]
    assert error["Code"] == "ModelError"
    assert "exceeds the limit of 6291456 bytes" in error["Message"]
    assert runtime.invoke_endpoint(EndpointName="huge-answer", Body=b"1,2,3,4", ContentType="text/csv")["Body"].read()


def test_bodies_in_flight_share_one_budget(server: ServerProcess) -> None:
    with connect(server) as holder:
        holder.sendall(head(1_000_000, path="/endpoints/any/invocations") + b"1" * 900_000)  # held, not finished
        time.sleep(0.3)
        with connect(server) as second:
            second.sendall(head(200_000, path="/endpoints/any/invocations"))  # refused before its body
            answer = read_all(second)
        assert answer.startswith(b"HTTP/1.1 503") and b"ThrottlingException" in answer
        holder.sendall(b"1" * 100_000)
        assert read_all(holder).startswith(b"HTTP/1.1 400")  # the held request completes: no such endpoint
    assert httpx.post(f"{server.url}/", content=b"{}", headers={"X-Amz-Target": "SageMaker.ListModels"}).is_success


def test_invocation_headers_are_bounded_as_aws_bounds_them(server: ServerProcess, model_url: str) -> None:
    sm, runtime = server.client(), server.client("sagemaker-runtime")
    deploy(sm, "bounded-headers", model_url)
    for kwargs, member in (
        ({"CustomAttributes": "a" * 2000}, "customAttributes"),
        ({"InferenceId": "i" * 65}, "inferenceId"),
        ({"TargetVariant": "no such variant!"}, "targetVariant"),
    ):
        with pytest.raises(ClientError) as caught:
            runtime.invoke_endpoint(EndpointName="bounded-headers", Body=b"1,2,3,4", ContentType="text/csv", **kwargs)
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        assert f"at '{member}' failed to satisfy constraint" in caught.value.response["Error"]["Message"]


def test_oversized_invocation_is_refused(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(head(7 * 1024 * 1024, path="/endpoints/any/invocations"))
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413") and b"ValidationError" in answer

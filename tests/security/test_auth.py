"""SigV4 on every API: the real server with an auth file, driven by boto3 and by raw HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import botocore.auth
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.endpoint_helpers import FAST_ENV, deploy
from tests.server_process import ServerProcess, free_port, write_auth_file
from tests.signing import SigV4, signed_headers

ALICE = ("AKIAALICE000000001", "alice-secret-key-0123456789", "111111111111")
BOB = ("AKIABOB00000000002", "bob-secret-key-9876543210", "222222222222")
TARGET = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SageMaker.ListModels"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("auth"), env=FAST_ENV, keys={"alice": ALICE, "bob": BOB}
    ).start()
    yield process
    process.stop()


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def test_signed_requests_work_and_accounts_see_only_their_own(server: ServerProcess, model_url: str) -> None:
    alice, bob = server.client(keys=ALICE[:2]), server.client(keys=BOB[:2])
    deploy(alice, "shared-name", model_url)
    arn = alice.describe_endpoint(EndpointName="shared-name")["EndpointArn"]
    assert ":111111111111:" in arn
    assert [m["ModelName"] for m in alice.list_models()["Models"]] == ["shared-name"]
    assert bob.list_models()["Models"] == []
    assert error_of(bob.describe_endpoint, EndpointName="shared-name")["Error"]["Code"] == "ValidationException"
    # The same name in another account is another resource.
    deploy(bob, "shared-name", model_url)
    assert ":222222222222:" in bob.describe_endpoint(EndpointName="shared-name")["EndpointArn"]
    runtime = server.client("sagemaker-runtime", keys=ALICE[:2])
    answer = runtime.invoke_endpoint(EndpointName="shared-name", Body=b"1,2,3,4", ContentType="text/csv")
    assert answer["Body"].read()
    logs = server.client("logs", keys=ALICE[:2])
    assert logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs")["logStreams"] == []


def test_tags_of_another_account_do_not_exist(server: ServerProcess, model_url: str) -> None:
    alice, bob = server.client(keys=ALICE[:2]), server.client(keys=BOB[:2])
    deploy(alice, "tagged", model_url)
    arn = alice.describe_endpoint(EndpointName="tagged")["EndpointArn"]
    alice.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}])
    for call, kwargs in (
        (bob.add_tags, {"Tags": [{"Key": "owner", "Value": "bob"}]}),
        (bob.list_tags, {}),
        (bob.delete_tags, {"TagKeys": ["team"]}),
    ):
        assert error_of(call, ResourceArn=arn, **kwargs)["Error"]["Code"] == "ResourceNotFound"
    assert alice.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]


def test_a_request_that_cannot_be_authentic_costs_no_body(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /endpoints/x/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
            b"Content-Length: 6000000\r\n\r\n"
        )
        answer = sock.recv(65536)  # refused at once, without waiting for 6 MB that never come
    assert answer.startswith(b"HTTP/1.1 403") and b"MissingAuthenticationTokenException" in answer
    assert time.monotonic() - started < 2


def test_signature_for_another_service_or_with_an_unsigned_body_fails(server: ServerProcess) -> None:
    body = b"{}"
    for service, extra in (("s3", {}), ("sagemaker", {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})):
        headers = signed_headers("POST", f"{server.url}/", body, {**TARGET, **extra}, ALICE[:2], service=service)
        response = httpx.post(f"{server.url}/", content=body, headers=headers)
        assert response.status_code == 403, service
        assert response.json()["__type"] == "InvalidSignatureException"


def test_wrong_secret_is_an_invalid_signature(server: ServerProcess) -> None:
    for service, call, kwargs in (
        ("sagemaker", "list_models", {}),
        ("sagemaker-runtime", "invoke_endpoint", {"EndpointName": "x", "Body": b"1"}),
        ("logs", "describe_log_streams", {"logGroupName": "g"}),
    ):
        client = server.client(service, keys=(ALICE[0], "not-the-secret"))
        error = error_of(getattr(client, call), **kwargs)
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert error["Error"]["Code"] == "InvalidSignatureException"
        assert error["Error"]["Message"].startswith("The request signature we calculated does not match")


def test_unknown_key_is_unrecognized(server: ServerProcess) -> None:
    error = error_of(server.client(keys=("AKIANOBODY", "whatever")).list_models)
    assert error["Error"]["Code"] == "UnrecognizedClientException"
    assert error["Error"]["Message"] == "The security token included in the request is invalid."


def test_expired_signature(server: ServerProcess) -> None:
    then = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=20)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=then):
        error = error_of(server.client(keys=ALICE[:2]).list_models)
    assert error["Error"]["Code"] == "InvalidSignatureException"
    assert error["Error"]["Message"].startswith("Signature expired: ")
    assert error["Error"]["Message"].endswith(" - 15 min.)")


def test_unsigned_and_malformed_requests(server: ServerProcess) -> None:
    unsigned = httpx.post(f"{server.url}/", content=b"{}", headers=TARGET)
    assert unsigned.status_code == 403
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    assert unsigned.headers["x-amzn-RequestId"]
    for garbage in ("AWS4-HMAC-SHA256 garbage", "AWS4-HMAC-SHA256 Credential=a/b, Signature=x", "Bearer token"):
        response = httpx.post(f"{server.url}/", content=b"{}", headers={**TARGET, "Authorization": garbage})
        assert response.status_code == 403, garbage
        assert response.json()["__type"] == "IncompleteSignatureException", garbage
    invoke = httpx.post(f"{server.url}/endpoints/x/invocations", content=b"1", headers={"Content-Type": "text/csv"})
    assert invoke.status_code == 403
    assert invoke.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert httpx.get(f"{server.url}/healthz").status_code == 200  # says "ok", nothing else
    assert httpx.get(f"{server.url}/nothing-here").status_code == 403  # unknown paths too


def test_altered_request_fails(server: ServerProcess) -> None:
    body = b'{"MaxResults": 1}'
    headers = signed_headers("POST", f"{server.url}/", body, dict(TARGET), ALICE[:2])
    assert httpx.post(f"{server.url}/", content=body, headers=headers).status_code == 200
    altered = httpx.post(f"{server.url}/", content=b'{"MaxResults": 2}', headers=headers)
    assert altered.status_code == 403
    assert altered.json()["__type"] == "InvalidSignatureException"
    retargeted = httpx.post(
        f"{server.url}/", content=body, headers={**headers, "X-Amz-Target": "SageMaker.ListEndpoints"}
    )
    assert retargeted.json()["__type"] == "InvalidSignatureException"


def test_httpx_signer_matches_boto3(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, auth=SigV4(ALICE[:2])) as client:
        response = client.post("/", content=b"{}", headers=TARGET)
    assert response.status_code == 200, response.text


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "watchkeeper", "serve", "--port", str(free_port()), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def test_off_loopback_without_keys_refuses_to_start(tmp_path: Any) -> None:
    process = serve("--host", "0.0.0.0", "--data-dir", str(tmp_path))
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "refusing to serve on 0.0.0.0 without authentication" in out
    assert "--auth-file" in out and "--insecure" in out


def test_insecure_starts_with_a_loud_warning(tmp_path: Any) -> None:
    process = serve("--host", "0.0.0.0", "--insecure", "--data-dir", str(tmp_path))
    try:
        assert process.stdout is not None
        seen = "".join(process.stdout.readline() for _ in range(2))
        assert "WARNING: --insecure" in seen
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_bad_auth_file_refuses_to_start(tmp_path: Any) -> None:
    missing = serve("--auth-file", str(tmp_path / "nope.ini"), "--data-dir", str(tmp_path))
    out, _ = missing.communicate(timeout=60)
    assert missing.returncode == 2 and "cannot read the auth file" in out
    bad = write_auth_file(tmp_path / "bad.ini", {"eve": ("AKIAEVE", "secret-eve", "12345")})
    process = serve("--auth-file", str(bad), "--data-dir", str(tmp_path))
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 2 and "account_id must be 12 digits" in out

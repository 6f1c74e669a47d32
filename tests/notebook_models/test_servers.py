"""The model servers over HTTP: AWS's recorded request/answer pairs replayed byte for byte, content types, errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.notebook_models import create_app, start_model_server
from tests.notebook_models.models import LINEAR_LEARNER_DIR, NOTEBOOKS, XGBOOST_DIR
from tests.server_process import free_port

RECORDED = NOTEBOOKS / "linear-learner-recorded-outputs"
XGB_REFERENCE = NOTEBOOKS / "xgboost-reference-predictions" / "test-dataset-input-cols.csv"


@pytest.fixture(scope="module")
def ll_url() -> Iterator[str]:
    with start_model_server("linear-learner") as url:
        yield url


@pytest.fixture(scope="module")
def xgb_url() -> Iterator[str]:
    with start_model_server("xgboost") as url:
        yield url


def _invoke(url: str, body: str | bytes, content_type: str, accept: str | None = None) -> httpx.Response:
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    return httpx.post(f"{url}/invocations", content=body, headers=headers, timeout=10)


def _recorded_captures() -> list[dict]:
    records = []
    for name in ("capture-jsonlines.jsonl", "capture-json.jsonl"):
        lines = (RECORDED / name).read_text().splitlines()
        records += [json.loads(line)["captureData"] for line in lines if line.strip()]
    return records


@pytest.mark.parametrize("capture", _recorded_captures(), ids=lambda c: c["endpointInput"]["observedContentType"])
def test_linear_learner_answers_as_awss_endpoint_did(ll_url: str, capture: dict) -> None:
    """Each data-capture record holds the request AWS's endpoint got and the exact bytes it answered."""
    request, answer = capture["endpointInput"], capture["endpointOutput"]
    response = _invoke(ll_url, request["data"], request["observedContentType"], answer["observedContentType"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(answer["observedContentType"])
    assert response.text == answer["data"]


def test_linear_learner_ping_and_default_accept(ll_url: str) -> None:
    assert httpx.get(f"{ll_url}/ping").status_code == 200
    row = (LINEAR_LEARNER_DIR / "test-dataset.jsonl").read_text().splitlines()[0]
    response = _invoke(ll_url, row, "application/jsonlines")  # no Accept: JSON, the container's default
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"predictions": [{"score": 0.9899773597717285, "predicted_label": 1}]}


def test_linear_learner_takes_csv_rows(ll_url: str) -> None:
    lines = (LINEAR_LEARNER_DIR / "test-dataset.jsonl").read_text().splitlines()[:3]
    as_jsonlines = _invoke(ll_url, "\n".join(lines), "application/jsonlines", "application/jsonlines")
    csv_rows = "\n".join(",".join(str(v) for v in json.loads(line)["features"]) for line in lines)
    as_csv = _invoke(ll_url, csv_rows, "text/csv", "application/jsonlines")
    assert as_csv.status_code == 200 and as_csv.text == as_jsonlines.text
    assert len(as_csv.text.splitlines()) == 3


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "message"),
    [
        ("{not json", "application/json", None, 400, "not valid application/json"),
        ('{"rows": []}', "application/json", None, 400, "instances"),
        ('{"features":[1,2]}', "application/jsonlines", None, 400, "record 0 has 2 features; the model takes 14"),
        ("1,2,x,4,5,6,7,8,9,10,11,12,13,14", "text/csv", None, 400, "features must be numbers"),
        ('{"features":[1]}', "text/plain", None, 415, "content type 'text/plain' is not supported"),
        ('{"features":[1]}', "application/jsonlines", "text/csv", 406, "accept type 'text/csv' is not supported"),
    ],
)
def test_linear_learner_refuses_bad_requests_with_a_reason(
    ll_url: str, body: str, content_type: str, accept: str | None, status: int, message: str
) -> None:
    response = _invoke(ll_url, body, content_type, accept)
    assert response.status_code == status
    assert message in response.text


def _reference_scores(count: int) -> list[float]:
    lines = XGB_REFERENCE.read_text().splitlines()[1 : count + 1]
    return [float(line.split(",")[1]) for line in lines]


def test_xgboost_answers_rows_comma_joined_as_a_real_time_endpoint(xgb_url: str) -> None:
    assert httpx.get(f"{xgb_url}/ping").status_code == 200
    rows = (XGBOOST_DIR / "test-dataset-input-cols.csv").read_text().splitlines()[:3]
    response = _invoke(xgb_url, "\n".join(rows), "text/csv", "application/json")  # Accept is ignored
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "\n" not in response.text
    assert [float(value) for value in response.text.split(",")] == _reference_scores(3)
    single = _invoke(xgb_url, rows[0], "text/csv")  # what the notebook sends: one row, no newline
    assert float(single.text) == _reference_scores(1)[0]


def test_xgboost_answers_one_score_a_line_under_batch_transform() -> None:
    rows = (XGBOOST_DIR / "test-dataset-input-cols.csv").read_text().splitlines()[:3]

    async def invoke_in_process() -> httpx.Response:  # the app factory, no socket
        transport = httpx.ASGITransport(app=create_app("xgboost", batch=True))
        async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
            return await client.post("/invocations", content="\n".join(rows), headers={"Content-Type": "text/csv"})

    response = asyncio.run(invoke_in_process())
    assert response.text.endswith("\n")
    assert [float(value) for value in response.text.splitlines()] == _reference_scores(3)


def test_xgboost_takes_one_column_fewer_and_empty_cells(xgb_url: str) -> None:
    row = (XGBOOST_DIR / "test-dataset-input-cols.csv").read_text().splitlines()[0].split(",")
    assert _invoke(xgb_url, ",".join(row[:-1]), "text/csv").status_code == 200
    holes = ",".join(["", *row[1:]])
    assert 0 <= float(_invoke(xgb_url, holes, "text/csv").text) <= 1


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("", "text/csv", 204, ""),
        ("a,b,c", "text/csv", 415, "Loading csv data failed with Exception, please ensure data is in csv format"),
        ("1,2,3", "text/csv", 400, "Feature size of csv inference data 3 is not consistent with feature size of "
         "trained model 69."),
        ('{"instances": [1]}', "application/json", 415, "Content-type application/json is not supported."),
    ],
)
def test_xgboost_refuses_as_the_container_does(
    xgb_url: str, body: str, content_type: str, status: int, message: str
) -> None:
    response = _invoke(xgb_url, body, content_type)
    assert response.status_code == status
    assert message in response.text


def test_the_command_line_serves_a_model() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.notebook_models", "--model", "linear-learner", "--port", str(port)]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        response = _invoke(url, '{"features":[39,2,184870,10,10,3,6,1,4,1,1597,61,41,37]}', "application/jsonlines",
                           "application/json")
        assert response.json()["predictions"][0]["score"] == 0.2506232261657715
    finally:
        process.terminate()
        process.wait(timeout=10)

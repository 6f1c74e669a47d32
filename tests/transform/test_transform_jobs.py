"""Transform jobs through the real boto3 client against a real server and the test model server
(tests/model_server.py: CSV rows in, one probability a line out). Expected answers are computed here with numpy
from the model server's weights, independently of the transform code."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC
from typing import Any

import botocore.exceptions
import numpy as np
import orjson
import pytest

from tests.model_server import WEIGHTS
from tests.server_process import ServerProcess
from tests.transform.conftest import create_model, get, objects, put, request, wait_for


def expected(rows: np.ndarray) -> list[str]:
    width = min(rows.shape[1], WEIGHTS.size)
    scores = 1.0 / (1.0 + np.exp(-(rows[:, :width] @ WEIGHTS[:width])))
    return [f"{p:.6f}" for p in scores]


def csv_text(rows: np.ndarray) -> str:
    return "".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows)


@pytest.fixture(scope="module")
def sm(server: ServerProcess, model_url: str) -> Any:
    client = server.client()
    create_model(client, "scorer", model_url)
    create_model(client, "no-server", None)
    return client


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.column_stack([rng.integers(0, 200, 300), rng.integers(0, 3, 300), rng.normal(150, 40, 300).round(1),
                            rng.integers(0, 5, 300)]).astype(float)


@pytest.mark.parametrize(("strategy", "extra"), [("SingleRecord", {}),
                                                 ("MultiRecord", {"MaxPayloadInMB": 1, "MaxConcurrentTransforms": 4})])
def test_line_split_writes_one_out_object_per_input(server: ServerProcess, sm: Any, rows: np.ndarray,
                                                    strategy: str, extra: dict[str, Any]) -> None:
    folder = f"s3://data/{strategy}"
    put(server, f"{folder}/in/part-a.csv", csv_text(rows[:200]))
    put(server, f"{folder}/in/day2/part-b.csv", csv_text(rows[200:]).replace("\n", "\n\n", 3))  # blank lines
    sm.create_transform_job(**request(f"lines-{strategy}".lower(), "scorer", f"{folder}/in", f"{folder}/out",
                                      SplitType="Line", AssembleWith="Line", BatchStrategy=strategy, **extra))
    done = wait_for(sm, f"lines-{strategy}".lower())
    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    assert done["TransformStartTime"] <= done["TransformEndTime"]
    assert objects(server, f"{folder}/out") == ["day2/part-b.csv.out", "part-a.csv.out"]
    assert get(server, f"{folder}/out/part-a.csv.out").decode().splitlines() == expected(rows[:200])
    assert get(server, f"{folder}/out/day2/part-b.csv.out").decode().splitlines() == expected(rows[200:])


def test_split_none_sends_each_object_whole(server: ServerProcess, sm: Any, rows: np.ndarray) -> None:
    put(server, "s3://data/whole/in.csv", csv_text(rows[:5]))
    for name, assemble, tail in (("whole-none", "None", ""), ("whole-line", "Line", "\n")):
        sm.create_transform_job(**request(name, "scorer", "s3://data/whole/in.csv", f"s3://data/whole/{name}",
                                          AssembleWith=assemble))
        assert wait_for(sm, name)["TransformJobStatus"] == "Completed"
        # The model answers the five rows of one request with five lines and no final line end.
        assert get(server, f"s3://data/whole/{name}/in.csv.out").decode() == "\n".join(expected(rows[:5])) + tail


def test_join_source_and_filters_on_csv(server: ServerProcess, sm: Any, rows: np.ndarray) -> None:
    ids = [f"c{i}" for i in range(20)]
    text = "".join(f"{i}," + ",".join(f"{v:g}" for v in row) + "\n" for i, row in zip(ids, rows[:20], strict=True))
    put(server, "s3://data/join/in/x.csv", text)
    sm.create_transform_job(**request(
        "join-csv", "scorer", "s3://data/join/in/", "s3://data/join/out", SplitType="Line", AssembleWith="Line",
        BatchStrategy="MultiRecord", DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input",
                                                     "OutputFilter": "$[0,-1]"}))
    done = wait_for(sm, "join-csv")
    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    lines = get(server, "s3://data/join/out/x.csv.out").decode().splitlines()
    assert lines == [f"{i},{p}" for i, p in zip(ids, expected(rows[:20]), strict=True)]


def test_join_source_on_json_records(server: ServerProcess, sm: Any, rows: np.ndarray) -> None:
    records = [{"id": i, "payload": {"instances": [row.tolist()]}} for i, row in enumerate(rows[:4])]
    put(server, "s3://data/json/in.jsonl", b"\n".join(orjson.dumps(r) for r in records))
    sm.create_transform_job(**request(
        "join-json", "scorer", "s3://data/json/in.jsonl", "s3://data/json/out", ContentType="application/json",
        Accept="application/json", SplitType="Line", AssembleWith="Line", BatchStrategy="SingleRecord",
        DataProcessing={"InputFilter": "$.payload", "JoinSource": "Input",
                        "OutputFilter": "$['id','SageMakerOutput']"}))
    done = wait_for(sm, "join-json")
    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    out = [orjson.loads(line) for line in get(server, "s3://data/json/out/in.jsonl.out").splitlines()]
    assert [o["id"] for o in out] == [0, 1, 2, 3]
    got = [o["SageMakerOutput"]["predictions"][0] for o in out]
    assert got == pytest.approx([float(p) for p in expected(rows[:4])], abs=1e-6)


def test_generate_inference_id_appends_an_id_and_the_start_time(server: ServerProcess, sm: Any,
                                                                 rows: np.ndarray) -> None:
    put(server, "s3://data/ids/in.csv", csv_text(rows[:6]))
    sm.create_transform_job(**request(
        "ids", "scorer", "s3://data/ids/in.csv", "s3://data/ids/out", SplitType="Line", AssembleWith="Line",
        BatchStrategy="MultiRecord", DataCaptureConfig={"DestinationS3Uri": "s3://data/ids/capture",
                                                        "GenerateInferenceId": True}))
    done = wait_for(sm, "ids")
    assert done["TransformJobStatus"] == "Completed", done.get("FailureReason")
    lines = [line.split(",") for line in get(server, "s3://data/ids/out/in.csv.out").decode().splitlines()]
    assert [line[0] for line in lines] == expected(rows[:6])
    assert len({uuid.UUID(line[1]).version for line in lines}) == 1 and len({line[1] for line in lines}) == 6
    assert {line[2] for line in lines} == {done["TransformStartTime"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_gzip_and_manifest_inputs(server: ServerProcess, sm: Any, rows: np.ndarray) -> None:
    put(server, "s3://data/gz/in/a.csv.gz", gzip.compress(csv_text(rows[:7]).encode()))
    sm.create_transform_job(**request("gzip", "scorer", "s3://data/gz/in", "s3://data/gz/out", SplitType="Line",
                                      CompressionType="Gzip", AssembleWith="Line"))
    assert wait_for(sm, "gzip")["TransformJobStatus"] == "Completed"
    assert get(server, "s3://data/gz/out/a.csv.gz.out").decode().splitlines() == expected(rows[:7])
    put(server, "s3://data/mf/objects/one.csv", csv_text(rows[:3]))
    put(server, "s3://data/mf/objects/two.csv", csv_text(rows[3:6]))
    put(server, "s3://data/mf/objects/not-named.csv", "fail\n")
    put(server, "s3://data/mf/list.manifest", orjson.dumps([{"prefix": "s3://data/mf/objects/"}, "two.csv",
                                                            "one.csv"]))
    sm.create_transform_job(**request("manifest", "scorer", "s3://data/mf/list.manifest", "s3://data/mf/out",
                                      S3DataType="ManifestFile", SplitType="Line", AssembleWith="Line"))
    assert wait_for(sm, "manifest")["TransformJobStatus"] == "Completed"
    assert objects(server, "s3://data/mf/out") == ["one.csv.out", "two.csv.out"]
    assert get(server, "s3://data/mf/out/two.csv.out").decode().splitlines() == expected(rows[3:6])


def test_a_failing_object_fails_the_job_and_gets_no_out_object(server: ServerProcess, sm: Any,
                                                               rows: np.ndarray) -> None:
    put(server, "s3://data/bad/in/a.csv", csv_text(rows[:3]))
    put(server, "s3://data/bad/in/b.csv", csv_text(rows[:2]) + "fail\n")
    sm.create_transform_job(**request("bad", "scorer", "s3://data/bad/in", "s3://data/bad/out", SplitType="Line",
                                      BatchStrategy="SingleRecord", ModelClientConfig={"InvocationsMaxRetries": 1}))
    done = wait_for(sm, "bad")
    assert done["TransformJobStatus"] == "Failed"
    assert done["FailureReason"].startswith("ClientError: s3://data/bad/in/b.csv (from record 3)")
    assert "answered 500" in done["FailureReason"]
    assert objects(server, "s3://data/bad/out") == ["a.csv.out"]  # the object that succeeded, as on AWS
    summary = sm.list_transform_jobs(NameContains="bad", StatusEquals="Failed")["TransformJobSummaries"]
    assert [s["TransformJobName"] for s in summary] == ["bad"] and summary[0]["FailureReason"]


def refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    assert info.value.response["Error"]["Code"] == "ValidationException", info.value.response
    return info.value.response["Error"]["Message"]


def test_create_refuses_what_aws_refuses(sm: Any) -> None:
    base = ("refused", "scorer", "s3://data/r/in", "s3://data/r/out")
    assert refused(sm.create_transform_job, **request("refused", "missing", *base[2:])) == (
        'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/missing".')
    assert "names no model server" in refused(sm.create_transform_job, **request("refused", "no-server", *base[2:]))
    assert "MultiRecord needs SplitType Line" in refused(
        sm.create_transform_job, **request(*base, BatchStrategy="MultiRecord"))
    assert "must not exceed 100 MB" in refused(
        sm.create_transform_job, **request(*base, MaxPayloadInMB=60, MaxConcurrentTransforms=2))
    assert "InputFilter" in refused(sm.create_transform_job,
                                    **request(*base, DataProcessing={"InputFilter": "$..features"}))
    assert "SplitType RecordIO is not supported" in refused(sm.create_transform_job,
                                                            **request(*base, SplitType="RecordIO"))
    assert "S3OutputPath" in refused(sm.create_transform_job, **request(*base[:3], "s3://data/a/../b"))
    assert refused(sm.describe_transform_job, TransformJobName="refused") == (
        "Could not find requested job with name refused")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        sm.create_transform_job(**request("join-csv", "scorer", *base[2:]))
    assert info.value.response["Error"]["Code"] == "ResourceInUse"


def test_list_sorts_filters_and_pages(sm: Any) -> None:
    names = [s["TransformJobName"] for s in sm.list_transform_jobs(SortBy="Name", SortOrder="Ascending",
                                                                    MaxResults=100)["TransformJobSummaries"]]
    assert names == sorted(names) and "join-csv" in names
    first = sm.list_transform_jobs(SortBy="Name", SortOrder="Ascending", MaxResults=2)
    second = sm.list_transform_jobs(SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"])
    assert [s["TransformJobName"] for s in first["TransformJobSummaries"] + second["TransformJobSummaries"]] == (
        names[:4])
    assert [s["TransformJobName"] for s in sm.list_transform_jobs(NameContains="JOIN")["TransformJobSummaries"]] == (
        ["join-json", "join-csv"])  # newest first, names matched case-insensitively


def test_stop_ends_a_running_job_stopped(server: ServerProcess, sm: Any) -> None:
    put(server, "s3://data/slow/in.csv", "slow\n" * 4)  # the model server sleeps 3 s on each
    sm.create_transform_job(**request("slow", "scorer", "s3://data/slow/in.csv", "s3://data/slow/out",
                                      SplitType="Line", BatchStrategy="SingleRecord"))
    wait_for(sm, "slow", until=("InProgress",))
    sm.stop_transform_job(TransformJobName="slow")
    assert sm.describe_transform_job(TransformJobName="slow")["TransformJobStatus"] in ("Stopping", "Stopped")
    done = wait_for(sm, "slow", timeout=60)  # a safety net: seconds (one request in flight), more on busy cores
    assert done["TransformJobStatus"] == "Stopped" and "FailureReason" not in done
    assert objects(server, "s3://data/slow/out") == []
    assert "already ended" in refused(sm.stop_transform_job, TransformJobName="slow")

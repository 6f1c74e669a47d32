"""Data quality on a real 2-process LocalCluster against the single-process run, field by field: counts,
completeness, type counts, min/max, exact sums, categorical buckets, bad rows and constraints identical; float
sums of decimals and std_dev within rounding; KLL buckets within the sketch's rank error, checked against the
exact ranks of the values written."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.dask.conftest import table, write_csv
from watchkeeper.jobs.analyzers.data_quality import analyze, suggest_baseline
from watchkeeper.jobs.analyzers.distributed import data_quality_compute
from watchkeeper.jobs.executors.dask import DaskRunner
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.summary import JobFailed

CSV = {"csv": {"header": True}}
PART_BYTES = 16 << 10  # small parts: the 12,000-row file is cut in ~30 ranges
RANK_ERROR = 0.01  # of the values counted: several times KLL's bound for k = 2048 (docs/dask.md)
EXACT = ("count", "eighths", "score", "sparse")  # integers and eighths: float sums exact in any order


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    folder = tmp_path_factory.mktemp("dq") / "data"
    parts = [table(12_000, 1), table(2_000, 2), table(2_000, 3)]
    for index, columns in enumerate(parts):
        write_csv(folder / f"part-{index}.csv", columns, short_every=250)
    whole = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return folder, whole


def _on_cluster(client) -> dict:
    return {"compute": data_quality_compute(DaskRunner(client), part_bytes=PART_BYTES)}


def _features(folder: Path) -> list[dict]:
    return json.loads((folder / "statistics.json").read_text())["features"]


@pytest.fixture(scope="module")
def baselines(dataset, client, tmp_path_factory):
    source, _ = dataset
    out = tmp_path_factory.mktemp("baselines")
    one = suggest_baseline(source, out / "one", CSV)
    two = suggest_baseline(source, out / "two", CSV, **_on_cluster(client))
    return out, one, two


def test_the_baseline_on_the_cluster_is_the_single_process_one(baselines):
    out, one, two = baselines
    assert two.item_count == one.item_count == 16_000
    assert two.bad_records == one.bad_records == {"row has an unexpected number of columns": 64}
    assert two.message == one.message
    assert (out / "two" / "constraints.json").read_text() == (out / "one" / "constraints.json").read_text()
    for mine, theirs in zip(_features(out / "two"), _features(out / "one"), strict=True):
        assert (mine["name"], mine["inferred_type"]) == (theirs["name"], theirs["inferred_type"])
        if "string_statistics" in theirs:
            assert mine["string_statistics"] == theirs["string_statistics"]
            continue
        got, want = mine["numerical_statistics"], theirs["numerical_statistics"]
        assert got["common"] == want["common"]
        assert (got["min"], got["max"]) == (want["min"], want["max"])
        if mine["name"] in EXACT:
            assert got["sum"] == want["sum"] and got["mean"] == want["mean"]
        assert math.isclose(got["sum"], want["sum"], rel_tol=1e-12)
        assert math.isclose(got["std_dev"], want["std_dev"], rel_tol=1e-12)
        bounds = [(b["lower_bound"], b["upper_bound"]) for b in got["distribution"]["kll"]["buckets"]]
        assert bounds == [(b["lower_bound"], b["upper_bound"]) for b in want["distribution"]["kll"]["buckets"]]


def test_kll_buckets_stay_within_the_rank_error_of_the_exact_counts(baselines, dataset):
    out, _, _ = baselines
    _, whole = dataset
    # the two columns every row keeps (short rows are cut after them)
    exact = {"count": whole["count"].astype(float), "eighths": whole["eighths"].astype(float)}
    for run in ("one", "two"):
        features = {f["name"]: f for f in _features(out / run)}
        for name, values in exact.items():
            buckets = features[name]["numerical_statistics"]["distribution"]["kll"]["buckets"]
            n = len(values)
            assert sum(b["count"] for b in buckets) == n
            low = buckets[0]["lower_bound"]
            below = 0.0
            for bucket in buckets[:-1]:
                below += bucket["count"]
                truth = np.count_nonzero(values < bucket["upper_bound"]) - np.count_nonzero(values < low)
                assert abs(below - truth) <= RANK_ERROR * n, (run, name, bucket)


def test_monitoring_decisions_are_the_single_process_ones(baselines, client, tmp_path):
    out, _, _ = baselines
    drifted = tmp_path / "drifted"
    columns = table(9_000, 7, shift=3.0)
    columns["count"][::50] = "many"  # a numeric column with words: a data-type violation
    write_csv(drifted / "a.csv", columns, short_every=100)
    write_csv(drifted / "b.csv", table(1_000, 8, shift=3.0))
    baseline = {"baseline_statistics": out / "one" / "statistics.json",
                "baseline_constraints": out / "one" / "constraints.json"}
    one = analyze(drifted, tmp_path / "one", CSV, **baseline)
    two = analyze(drifted, tmp_path / "two", CSV, **baseline, **_on_cluster(client))
    assert one.status == two.status == "CompletedWithViolations"
    assert two.message == one.message and two.bad_records == one.bad_records

    def decisions(run: str) -> list[tuple[str, str]]:
        violations = json.loads((tmp_path / run / "constraint_violations.json").read_text())["violations"]
        return sorted((v["feature_name"], v["constraint_check_type"]) for v in violations)

    assert decisions("two") == decisions("one")
    assert ("count", "data_type_check") in decisions("one")


def test_csv_without_header_takes_the_baseline_names_on_every_part(baselines, client, tmp_path):
    out, _, _ = baselines
    source = write_csv(tmp_path / "plain" / "a.csv", table(6_000, 11), header=False, short_every=300)
    baseline = {"baseline_statistics": out / "one" / "statistics.json"}
    fmt = {"csv": {"header": False}}
    one = analyze(source.parent, tmp_path / "one", fmt, **baseline)
    two = analyze(source.parent, tmp_path / "two", fmt, **baseline, **_on_cluster(client))
    assert two.item_count == one.item_count == 6_000 and two.bad_records == one.bad_records
    names = [f["name"] for f in _features(tmp_path / "two")]
    assert names == [f["name"] for f in _features(tmp_path / "one")] == list(table(1, 0))
    for mine, theirs in zip(_features(tmp_path / "two"), _features(tmp_path / "one"), strict=True):
        for key in ("numerical_statistics", "string_statistics"):
            if key in theirs:
                assert mine[key]["common"] == theirs[key]["common"]


def test_a_part_that_fails_fails_the_job_with_its_reason(client, tmp_path):
    source = tmp_path / "empty"
    source.mkdir()
    (source / "a.csv").write_text("\n\n")
    with pytest.raises(JobFailed) as single:
        suggest_baseline(source, tmp_path / "one", CSV)
    with pytest.raises(JobFailed) as distributed:
        suggest_baseline(source, tmp_path / "two", CSV, **_on_cluster(client))
    assert str(distributed.value) == str(single.value)


def _json_lines(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + "not json\n")


def test_json_lines_ranges_are_kept_only_when_they_infer_the_file_s_columns(client, tmp_path):
    rng = np.random.default_rng(5)
    steady = [{"a": int(rng.integers(0, 100)), "b": float(rng.integers(0, 80)) / 4, "k": str(rng.choice(["x", "y"]))}
              for _ in range(6_000)]
    # the second half has a float where the first had integers, and a key the first half never has
    shifting = [{"v": i if i < 3_000 else i + 0.5, **({"late": "z"} if i >= 3_000 else {})} for i in range(6_000)]
    for name, rows in (("steady", steady), ("shifting", shifting)):
        _json_lines(tmp_path / name / "a.jsonl", rows)
        fmt = {"json": {"lines": True}}
        one = suggest_baseline(tmp_path / name, tmp_path / f"{name}-one", fmt)
        log = io.StringIO()
        two = suggest_baseline(tmp_path / name, tmp_path / f"{name}-two", fmt, log=JobLog(log), **_on_cluster(client))
        assert "in 1 parts" not in log.getvalue()  # the file was cut
        assert two.item_count == one.item_count == 6_000
        assert two.bad_records == one.bad_records == {"line is not a JSON object": 1}
        assert (tmp_path / f"{name}-two" / "constraints.json").read_text() == \
            (tmp_path / f"{name}-one" / "constraints.json").read_text()
        for mine, theirs in zip(_features(tmp_path / f"{name}-two"), _features(tmp_path / f"{name}-one"),
                                strict=True):
            assert (mine["name"], mine["inferred_type"]) == (theirs["name"], theirs["inferred_type"])
            key = "numerical_statistics" if "numerical_statistics" in theirs else "string_statistics"
            assert mine[key]["common"] == theirs[key]["common"]
            if key == "numerical_statistics":
                assert (mine[key]["sum"], mine[key]["min"], mine[key]["max"]) == \
                    (theirs[key]["sum"], theirs[key]["min"], theirs[key]["max"])


def _capture(folder: Path, index: int, rows: int, seed: int) -> None:
    """A capture file of CSV payloads over two hours, with shadow records, a broken line and short payloads."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(rows):
        payload = f"{rng.integers(0, 50)},{rng.integers(0, 400) / 8},{rng.choice(['p', 'q'])}"
        if i % 211 == 5:
            payload = "7"  # a record of the wrong width
        metadata = {"eventId": f"{index}-{i}", "inferenceTime": f"2022-03-24T0{i % 2}:{i % 60:02d}:00Z"}
        if i % 97 == 3:
            metadata["invocationSource"] = "ShadowExperiment"
        lines.append(json.dumps({"captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": payload, "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": str(rng.random()),
                               "encoding": "CSV"}}, "eventMetadata": metadata, "eventVersion": "0"}))
    lines.insert(rows // 2, "{not json")
    hour = folder / "ep" / "AllTraffic" / "2022" / "03" / "24" / "00"
    hour.mkdir(parents=True, exist_ok=True)
    (hour / f"00-00-000-{index:03d}.jsonl").write_text("\n".join(lines) + "\n")


def test_capture_files_in_a_window_count_and_decide_as_one_process(client, tmp_path):
    for index in range(6):
        _capture(tmp_path / "capture", index, 1_500, index)
    fmt = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
    suggest_baseline(tmp_path / "capture", tmp_path / "base", fmt)
    window = {"start_time": "2022-03-24T01:00:00Z", "end_time": "2022-03-24T02:00:00Z",
              "baseline_statistics": tmp_path / "base" / "statistics.json",
              "baseline_constraints": tmp_path / "base" / "constraints.json"}
    # files grouped to a quarter of the part size: 2 files (~0.5 MB each) per part, each forming its own batches
    compute = {"compute": data_quality_compute(DaskRunner(client), part_bytes=4 << 20)}
    one = analyze(tmp_path / "capture", tmp_path / "one", fmt, **window)
    log = io.StringIO()
    two = analyze(tmp_path / "capture", tmp_path / "two", fmt, log=JobLog(log), **window, **compute)
    assert "6 files in 3 parts" in log.getvalue()
    assert two.item_count == one.item_count > 0
    assert two.bad_records == one.bad_records and len(one.bad_records) == 2  # broken lines, short payloads
    assert two.skipped_records == one.skipped_records and len(one.skipped_records) == 2  # window, shadow
    assert two.message == one.message and two.input_files == one.input_files == 6
    assert (tmp_path / "two" / "constraint_violations.json").read_text() == \
        (tmp_path / "one" / "constraint_violations.json").read_text()
    for mine, theirs in zip(_features(tmp_path / "two"), _features(tmp_path / "one"), strict=True):
        assert (mine["name"], mine["inferred_type"]) == (theirs["name"], theirs["inferred_type"])
        key = "numerical_statistics" if "numerical_statistics" in theirs else "string_statistics"
        assert mine[key]["common"] == theirs[key]["common"]

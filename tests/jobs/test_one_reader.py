"""The merge job and model quality read through capture/: the same window rule (shadow traffic skipped,
times as instants) and the same hour folders."""

from __future__ import annotations

import json
from pathlib import Path

from watchkeeper.jobs.analyzers.ground_truth_merge import merge
from watchkeeper.jobs.analyzers.model_quality import model_quality_job


def record(i: int, time: str, source: str | None = None) -> str:
    metadata = {"eventId": f"e{i}", "inferenceId": str(i), "inferenceTime": time}
    if source:
        metadata["invocationSource"] = source
    return json.dumps({"captureData": {"endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                                          "data": f"0.{i % 10}", "encoding": "CSV"}},
                       "eventMetadata": metadata, "eventVersion": "0"})


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))


def test_merge_skips_shadow_traffic_and_compares_instants(tmp_path):
    lines = [
        record(1, "2024-05-01T10:10:00Z"),
        record(2, "2024-05-01T12:20:00+02:00"),  # 10:20Z: inside, filed under hour 10
        record(3, "2024-05-01T10:30:00Z", source="ShadowExperiment"),
        record(4, "2024-05-01T11:00:00Z"),  # end is exclusive
    ]
    write_lines(tmp_path / "capture/ep/AllTraffic/2024/05/01/10/a.jsonl", lines)
    labels = [json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": str(i)},
                          "eventVersion": "0"}) for i in range(1, 5)]
    write_lines(tmp_path / "truth/2024/05/01/11/l.jsonl", labels)
    summary = merge(tmp_path / "capture", tmp_path / "truth", tmp_path / "out",
                    start_time="2024-05-01T10:00:00Z", end_time="2024-05-01T11:00:00Z")
    assert (summary.captured, summary.merged) == (2, 2)
    [written] = list((tmp_path / "out").rglob("*.jsonl"))
    assert written.parent.relative_to(tmp_path / "out").as_posix() == "ep/AllTraffic/2024/05/01/10"


def test_model_quality_skips_shadow_traffic_in_merged_records(tmp_path):
    merged = []
    for i in range(20):
        line = json.loads(record(i, "2024-05-01T10:10:00Z", "ShadowExperiment" if i >= 15 else None))
        merged.append(json.dumps({"eventVersion": "0", "groundTruthData": {"data": str(i % 2), "encoding": "CSV"},
                                  **line}))
    write_lines(tmp_path / "merged/ep/AllTraffic/2024/05/01/10/p.jsonl", merged)
    summary = model_quality_job(tmp_path / "merged", tmp_path / "report",
                                {"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}},
                                problem_type="BinaryClassification", probability_attribute="0",
                                start_time="2024-05-01T10:00:00Z", end_time="2024-05-01T11:00:00Z")
    assert summary.item_count == 15
    assert summary.skipped_records == {"shadow variant traffic": 5}

"""Peers of the analyzer bench: whylogs and Evidently on the same files, one peer per process.

    python bench/analyze_peers.py PEER CAPTURE_FOLDER TRAINING_CSV

PEER is `whylogs` (profiles of the training set and of the capture records: what a baseline plus an
analysis is to it) or `evidently` (a DataDriftPreset report, training set as reference, capture records as
current). Both are given the capture records as Watchkeeper reads them, parsed by polars (envelopes, then
CSV or flat JSON payloads, output column first) and handed over as pandas frames; that reading is timed as
part of the peer's run. Prints one JSON line: seconds and peak RSS, or why the peer was skipped. Needs only
polars, pandas and the peer (not Watchkeeper), so it can run in a separate virtual environment.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
from pathlib import Path

import polars as pl

_SIDE = pl.Struct({"observedContentType": pl.String, "data": pl.String, "encoding": pl.String})
SCHEMA = {"captureData": pl.Struct({"endpointInput": _SIDE, "endpointOutput": _SIDE})}


def capture_frame(folder: Path, names: list[str]) -> pl.DataFrame:
    """Capture records as typed columns named like the training set (output first)."""
    frames = []
    for path in sorted(folder.rglob("*.jsonl")):
        envelopes = pl.read_ndjson(path, schema=SCHEMA).get_column("captureData")
        inputs = envelopes.struct.field("endpointInput").struct.field("data")
        output = envelopes.struct.field("endpointOutput").struct.field("data")
        if envelopes.struct.field("endpointInput").struct.field("encoding")[0] == "JSON":
            frame = inputs.str.json_decode(infer_schema_length=None).struct.unnest()
        else:
            text = "\n".join(inputs.to_list()).encode()
            frame = pl.read_csv(io.BytesIO(text), has_header=False, new_columns=names[1:], infer_schema_length=None)
        frames.append(frame.insert_column(0, output.cast(pl.Float64, strict=False).alias(names[0])))
    return pl.concat(frames, how="diagonal_relaxed")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    peer, capture, training = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    try:
        if peer == "whylogs":
            import whylogs as why
        else:
            from evidently import Report
            from evidently.presets import DataDriftPreset
    except ImportError as error:
        print(json.dumps({"peer": peer, "skipped": f"not installed ({error})"}))
        return
    start = time.perf_counter()
    reference = pl.read_csv(training).to_pandas()
    current = capture_frame(capture, list(reference.columns)).to_pandas()
    if peer == "whylogs":
        why.log(pandas=reference).view()
        why.log(pandas=current).view()
    else:
        Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
    seconds = time.perf_counter() - start
    print(json.dumps({"peer": peer, "seconds": seconds, "rows": len(current), "peak_rss_mb": _peak_rss_mb()}))


if __name__ == "__main__":
    main()

"""Batch capture as AWS writes it (docs/capture.md, spec §3.4): no copies of the data, two manifests.

`<DestinationS3Uri>/input/yyyy/mm/dd/hh/<name>` names the job's input objects and
`<DestinationS3Uri>/output/yyyy/mm/dd/hh/<name>` its `.out` objects, the hour being the job's start (UTC). A
manifest is a JSON list: `{"prefix": "s3://bucket/folder/"}` then keys relative to it; a job whose S3Uri
names one object writes `[{"prefix": "s3://bucket/that-object"}, ""]`, as AWS does. AWS does not document the
manifests' own names; Watchkeeper names them as capture files are named (`<MM>-<SS>-<mmm>-<uuid4>.jsonl` of the
job's start), and batch monitoring recognises a manifest by its content (capture/batch.py).
"""

from __future__ import annotations

import orjson

from watchkeeper.capture.hours import hour_object_uri
from watchkeeper.storage.base import ObjectStore, join_uri


def manifest(prefix: str, keys: list[str]) -> bytes:
    return orjson.dumps([{"prefix": prefix}, *keys])


def write_manifests(store: ObjectStore, destination: str, started: float, input_prefix: str, input_keys: list[str],
                    output_path: str, output_keys: list[str]) -> list[str]:
    """Write both manifests; returns their URIs."""
    output_prefix = output_path if output_path.endswith("/") else output_path + "/"
    written = []
    for side, prefix, keys in (("input", input_prefix, input_keys), ("output", output_prefix, output_keys)):
        uri = hour_object_uri(join_uri(destination, side), started)
        store.put_bytes(uri, manifest(prefix, keys))
        written.append(uri)
    return written

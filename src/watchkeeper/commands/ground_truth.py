"""`watchkeeper ground-truth put`: upload labels as SageMaker ground-truth records (docs/capture.md).

    watchkeeper ground-truth put --destination s3://bucket/ground-truth --file labels.jsonl

Writes to the store configured by WATCHKEEPER_* (the embedded folder DATA_DIR/s3 unless
WATCHKEEPER_S3_ENDPOINT_URL is set); `--data-dir` overrides DATA_DIR. `--file -` reads standard input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ground-truth", help="upload ground-truth labels for model-quality monitoring"
    )
    actions = parser.add_subparsers(dest="ground_truth_action", required=True)
    put = actions.add_parser(
        "put",
        help="write labels.jsonl as SageMaker ground-truth records under DESTINATION/yyyy/mm/dd/hh/",
        description=(
            "Each line of FILE is a JSON object: {\"inferenceId\": \"42\", \"label\": 1} (or \"eventId\"; "
            "optional \"time\" ISO-8601 or epoch seconds, default now; a label object/array is written as "
            "JSON). See docs/capture.md."
        ),
    )
    put.add_argument(
        "--destination", required=True, help="s3:// URI, the GroundTruthS3Input.S3Uri of the schedule"
    )
    put.add_argument("--file", required=True, help="labels.jsonl ('-' for standard input)")
    put.add_argument(
        "--data-dir", help="Watchkeeper's data folder (default: $WATCHKEEPER_DATA_DIR or ./.watchkeeper)"
    )
    put.set_defaults(func=_put)


def _put(args: argparse.Namespace) -> int:
    from watchkeeper.capture.ground_truth import LabelError, put_ground_truth, read_labels
    from watchkeeper.config import Settings
    from watchkeeper.storage import open_store
    from watchkeeper.storage.base import InvalidKey, InvalidUri, StorageError, parse_s3_uri

    settings = Settings()
    if args.data_dir:
        settings = dataclasses.replace(settings, data_dir=Path(args.data_dir))
    source = "stdin" if args.file == "-" else args.file
    try:
        parse_s3_uri(args.destination)  # before reading a large file
        if args.file == "-":
            records = read_labels(sys.stdin.buffer, source)
        else:
            with open(args.file, "rb") as f:
                records = read_labels(f, source)
        uris = put_ground_truth(open_store(settings), args.destination, records)
    except OSError as exc:
        print(f"error: cannot read {source}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (LabelError, InvalidUri, InvalidKey) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not records:
        print(f"{source} holds no labels: nothing written", file=sys.stderr)
        return 0
    print(f"wrote {len(records)} ground-truth records in {len(uris)} objects:")
    for uri in uris:
        print(f"  {uri}")
    return 0

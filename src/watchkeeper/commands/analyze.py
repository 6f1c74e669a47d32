"""`watchkeeper analyze`: check captured traffic (or a dataset) against a baseline (spec §7).

    watchkeeper analyze --input capture/ --baseline-statistics statistics.json \
        --baseline-constraints constraints.json --output report/ [--start ISO --end ISO] [--dask ADDRESS|local]

Writes statistics.json, constraints.json and constraint_violations.json as a SageMaker monitoring
execution does, prints a one-line summary and the violations, and exits 0: violations are a result.
"""

from __future__ import annotations

import argparse
import contextlib

from watchkeeper.commands._analysis import add_common_arguments, dataset_format, run_job


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="check captured traffic or a dataset against baseline constraints",
        description="Compute statistics.json for captured traffic (a capture folder, read recursively) or "
                    "a dataset, and write the violations of the baseline constraints.")
    parser.add_argument("--input", required=True, help="capture folder, dataset file or folder (or s3://)")
    parser.add_argument("--baseline-statistics", help="baseline statistics.json (needed for drift checks)")
    parser.add_argument("--baseline-constraints", help="baseline constraints.json to check")
    parser.add_argument("--start", help="analyse records with inferenceTime >= START (ISO-8601)")
    parser.add_argument("--end", help="analyse records with inferenceTime < END (ISO-8601)")
    parser.add_argument("--format", choices=["capture", "csv", "json", "jsonl", "parquet"], default="capture",
                        help="input format (default capture: SageMaker capture JSON Lines)")
    parser.add_argument("--header", action="store_true", help="CSV files start with a header line")
    parser.add_argument("--output-columns-position", choices=["START", "END"], default="START",
                        help="capture data: put the endpoint output's columns first (START) or last (END)")
    parser.add_argument("--capture-indices", default="endpointInput,endpointOutput",
                        help="capture sides to analyse (default endpointInput,endpointOutput)")
    parser.add_argument("--dask", metavar="ADDRESS|local",
                        help="analyse on a Dask cluster: a scheduler address (tcp://host:8786), or local for a "
                             "LocalCluster of one worker process per core (docs/dask.md)")
    add_common_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from watchkeeper.jobs.analyzers.data_quality import analyze  # polars & co. only when analysing

    indices = [part.strip() for part in args.capture_indices.split(",") if part.strip()]
    fmt = dataset_format(args.format, args.header, args.output_columns_position, indices)
    if args.format == "capture":
        fmt["sagemakerCaptureJson"]["outputColumnsPosition"] = args.output_columns_position

    def job(paths, output, log, progress):
        with contextlib.ExitStack() as stack:
            compute = None
            if args.dask:  # dask is imported only here (jobs/executors/dask.py)
                from watchkeeper.jobs.analyzers.distributed import data_quality_compute
                from watchkeeper.jobs.executors.dask import DaskRunner, cluster_client

                compute = data_quality_compute(DaskRunner(stack.enter_context(cluster_client(args.dask))))
            return analyze(
                paths["input"], output, fmt,
                baseline_statistics=paths["statistics"],
                baseline_constraints=paths["constraints"],
                start_time=args.start, end_time=args.end,
                record_preprocessor_script=paths["preprocessor"],
                post_analytics_processor_script=paths["postprocessor"],
                log=log, progress=progress, compute=compute,
            )

    inputs = {"input": args.input, "statistics": args.baseline_statistics,
              "constraints": args.baseline_constraints, "preprocessor": args.preprocessor,
              "postprocessor": args.postprocessor}
    return run_job("analyze", args, job, "input", inputs)

"""`watchkeeper baseline`: suggest statistics.json and constraints.json from a dataset (spec §6.2).

    watchkeeper baseline --dataset train.csv --format csv --header --output out/

What SageMaker's baselining job (`DefaultModelMonitor.suggest_baseline`) writes, from a file or a folder
(local or s3://) of CSV (with or without header), JSON, JSON Lines or Parquet.
"""

from __future__ import annotations

import argparse
import sys

from watchkeeper.commands._analysis import add_common_arguments, dataset_format, run_job


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "baseline", help="suggest statistics.json and constraints.json from a dataset",
        description="Compute statistics.json and suggest constraints.json for a baseline dataset, as "
                    "SageMaker's baselining job does.")
    parser.add_argument("--dataset", required=True, help="file or folder (or s3:// URI) of the dataset")
    parser.add_argument("--format", choices=["csv", "json", "jsonl", "parquet"], default="csv",
                        help="dataset format (default csv; json is one JSON document, jsonl JSON Lines)")
    parser.add_argument("--header", action="store_true", help="CSV files start with a header line")
    parser.add_argument("--output-columns-position", choices=["START", "END"], default="START",
                        help="where the label/prediction column is (default START)")
    parser.add_argument("--categorical-drift-method", choices=["LInfinity", "ChiSquared"],
                        help="categorical_drift_method of the suggested monitoring_config")
    quality = parser.add_argument_group("model quality (--analysis-type model-quality, spec §9)")
    quality.add_argument("--analysis-type", choices=["data-quality", "model-quality"], default="data-quality",
                         help="data-quality statistics (default) or model-quality metrics")
    quality.add_argument("--problem-type", choices=["BinaryClassification", "MulticlassClassification", "Regression"])
    quality.add_argument("--inference-attribute", help="column (name or 0-based index) or JSON path of the prediction")
    quality.add_argument("--probability-attribute", help="column or JSON path of the positive class's probability")
    quality.add_argument("--ground-truth-attribute", help="column or JSON path of the true label")
    quality.add_argument("--probability-threshold-attribute", metavar="X",
                         help="predict positive when probability >= X (no inference attribute; default 0.5)")
    quality.add_argument("--positive-label", help="the positive class of a binary problem (default 1)")
    add_common_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    fmt = dataset_format(args.format, args.header, args.output_columns_position)
    if args.analysis_type == "model-quality":
        return _run_model_quality(args, fmt)

    from watchkeeper.jobs.analyzers.data_quality import suggest_baseline  # polars & co. only when analysing

    def job(paths, output, log, progress):
        return suggest_baseline(
            paths["dataset"], output, fmt,
            record_preprocessor_script=paths["preprocessor"],
            post_analytics_processor_script=paths["postprocessor"],
            categorical_drift_method=args.categorical_drift_method,
            log=log, progress=progress,
        )

    inputs = {"dataset": args.dataset, "preprocessor": args.preprocessor, "postprocessor": args.postprocessor}
    return run_job("baseline", args, job, "dataset", inputs)


def _run_model_quality(args: argparse.Namespace, fmt: dict) -> int:
    from watchkeeper.jobs.analyzers.model_quality import model_quality_job

    if not args.problem_type:
        print("watchkeeper baseline: --analysis-type model-quality needs --problem-type", file=sys.stderr)
        return 2

    def job(paths, output, log, progress):
        return model_quality_job(
            paths["dataset"], output, fmt, problem_type=args.problem_type,
            inference_attribute=args.inference_attribute, probability_attribute=args.probability_attribute,
            ground_truth_attribute=args.ground_truth_attribute,
            probability_threshold_attribute=args.probability_threshold_attribute,
            positive_label=args.positive_label, log=log, progress=progress,
        )

    return run_job("baseline", args, job, "dataset", {"dataset": args.dataset})

"""`watchkeeper` command line: one sub-command per module in `watchkeeper.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from watchkeeper.errors import AwsError

# Each module exposes `register(subparsers)`, which adds its parser and sets `func`.
COMMAND_MODULES = ("serve", "baseline", "analyze", "ground_truth", "run", "backfill", "report", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchkeeper", description="Self-hosted model monitor with the SageMaker Model Monitor API."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"watchkeeper.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except AwsError as error:  # a refused request, e.g. `run` on a schedule whose stored config is invalid
        print(f"watchkeeper {args.command}: {error.code}: {error.message}", file=sys.stderr, flush=True)
        code = 1
    sys.exit(code or 0)


if __name__ == "__main__":
    main()

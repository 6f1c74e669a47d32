"""`watchkeeper` command line: one sub-command per module in `watchkeeper.commands`.

A command line imports only its own command's module (`baseline` never loads `serve`'s settings or `run`'s
store); the top-level help and an unknown command import them all, to list them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from watchkeeper.errors import AwsError

# Each command's module exposes `register(subparsers)`, which adds its parser and sets `func`.
COMMANDS = {"serve": "serve", "baseline": "baseline", "analyze": "analyze", "ground-truth": "ground_truth",
            "run": "run", "backfill": "backfill", "report": "report", "demo": "demo"}
COMMAND_MODULES = tuple(COMMANDS.values())


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: only its command's sub-parser when `argv` starts with a command's name, else
    (no `argv`, `--help`, a typo) every command's, so the help lists them all."""
    parser = argparse.ArgumentParser(
        prog="watchkeeper", description="Self-hosted model monitor with the SageMaker Model Monitor API."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    only = COMMANDS.get(argv[0]) if argv else None
    for name in (only,) if only else COMMAND_MODULES:
        module = importlib.import_module(f"watchkeeper.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        code = args.func(args)
    except AwsError as error:  # a refused request, e.g. `run` on a schedule whose stored config is invalid
        print(f"watchkeeper {args.command}: {error.code}: {error.message}", file=sys.stderr, flush=True)
        code = 1
    sys.exit(code or 0)


if __name__ == "__main__":
    main()

"""`watchkeeper backfill` (not yet implemented)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backfill", help="not yet implemented")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print("watchkeeper backfill: not yet implemented", flush=True)
    return 2

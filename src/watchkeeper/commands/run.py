"""`watchkeeper run SCHEDULE [--start ISO --end ISO]`: start one execution of a schedule now and run it.

Without --start/--end the window is the one the schedule would analyse if it fired now. Returns once every job
of the execution's plan has ended, printing its final status, then its report location (Completed,
CompletedWithViolations: exit 0) or failure reason (Failed, Stopped: exit 1).
"""

from __future__ import annotations

import argparse
import time

from watchkeeper.commands._executions import add_store_arguments, open_services, parse_time, run_execution


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start an execution of a monitoring schedule now")
    add_store_arguments(parser)
    parser.add_argument("--start", help="window start (ISO-8601, UTC unless it has an offset)")
    parser.add_argument("--end", help="window end (ISO-8601); default now")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from watchkeeper.scheduling.fire_times import Window

    services, ctx = open_services(args)
    try:
        now = round(time.time(), 3)
        window = None
        if args.start:
            window = Window(parse_time(args.start), parse_time(args.end) if args.end else now)
        status, detail = run_execution(services, ctx, args.schedule, now, window)
    finally:
        services.close()
    print(f"{args.schedule}: {status}. {detail}".strip(), flush=True)
    return 0 if status in ("Completed", "CompletedWithViolations") else 1

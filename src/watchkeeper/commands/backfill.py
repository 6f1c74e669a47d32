"""`watchkeeper backfill SCHEDULE --from ISO --to ISO`: run the schedule's past windows in order.

One execution per fire time in [from, to), each analysing the window it would have analysed then. Fire
times that already have an execution are skipped, so a backfill can be resumed.
"""

from __future__ import annotations

import argparse

from watchkeeper.commands._executions import add_store_arguments, open_services, parse_time, run_execution


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backfill", help="run a schedule's past windows in order")
    add_store_arguments(parser)
    parser.add_argument("--from", dest="start", required=True, help="first fire time considered (ISO-8601)")
    parser.add_argument("--to", dest="end", required=True, help="fire times before this (ISO-8601)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import orjson
    from tqdm import tqdm

    from watchkeeper.scheduling.expressions import parse_schedule_expression
    from watchkeeper.scheduling.fire_times import iso, next_fire_after

    services, ctx = open_services(args)
    failures = 0
    try:
        schedule = services.schedules.find_row(ctx, args.schedule)
        spec = parse_schedule_expression(
            (orjson.loads(schedule.config).get("ScheduleConfig") or {}).get("ScheduleExpression")
        )
        if spec.kind == "now":
            print(f"{args.schedule} is a one-off NOW schedule; use `watchkeeper run` instead.", flush=True)
            return 2
        fire_times = []
        t = next_fire_after(spec, parse_time(args.start) - 1)
        end = parse_time(args.end)
        while t is not None and t < end:
            fire_times.append(t)
            t = next_fire_after(spec, t)
        for fire_time in tqdm(fire_times, desc=f"backfill {args.schedule}", unit="window"):
            status, detail = run_execution(services, ctx, args.schedule, fire_time, None)
            failures += status not in ("Completed", "CompletedWithViolations", "Skipped")
            tqdm.write(f"{iso(fire_time)} {status}. {detail}".strip())
    finally:
        services.close()
    print(f"{len(fire_times)} window(s), {failures} failed", flush=True)
    return 1 if failures else 0

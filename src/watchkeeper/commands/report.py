"""`watchkeeper report EXECUTION [--output FILE]`: one self-contained HTML file (inline CSS and SVG, nothing
fetched when it is opened) with the dashboard's charts of one execution, for people who do not run the server.

EXECUTION is a processing job ARN, as ListMonitoringExecutions gives it (the execution's current job), or the
S3 URI of a report folder (then `--baseline-statistics` names the baseline to compare with, if any). Like
`run` and `backfill`, it reads the server's store and object store directly, as the machine's owner.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from watchkeeper.errors import AwsError

if TYPE_CHECKING:  # imported when the command runs: `watchkeeper --help` stays fast
    from watchkeeper.services.container import Services

JOB_ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):processing-job/(?P<name>.+)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write one execution's report as a self-contained HTML file")
    parser.add_argument("execution", help="processing job ARN of the execution, or the S3 URI of a report folder")
    parser.add_argument("--output", "-o", type=Path, help="HTML file to write (default report-<job>.html)")
    parser.add_argument("--baseline-statistics", help="baseline statistics.json URI (with a report S3 URI)")
    parser.add_argument("--data-dir", type=Path, help="data folder (WATCHKEEPER_DATA_DIR, default ./.watchkeeper)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (WATCHKEEPER_DATABASE_URL)")
    parser.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from watchkeeper.config import Settings
    from watchkeeper.services.container import Services

    overrides = {"data_dir": args.data_dir, "database_url": args.database_url}
    settings = dataclasses.replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})
    services = Services.build(settings)
    try:
        html, name = _html(services, args.execution, args.baseline_statistics)
    except AwsError as error:
        print(f"watchkeeper report: {error.message}", file=sys.stderr, flush=True)
        return 1
    finally:
        services.close()
    output = args.output or Path(f"report-{name}.html")
    output.write_text(html, encoding="utf-8")
    print(f"Wrote {output}", flush=True)
    return 0


def _html(services: Services, execution: str, baseline_statistics: str | None) -> tuple[str, str]:
    """The report's HTML and a short name for its file."""
    from watchkeeper.services.context import RequestContext
    from watchkeeper.web.pages import report_view
    from watchkeeper.web.render import render, stylesheet
    from watchkeeper.web.reports import job_locations, load_report

    status = message = None
    match = JOB_ARN.fullmatch(execution)
    if match:
        ctx = RequestContext(match["account"], match["region"])
        job = services.processing_jobs.describe(ctx, match["name"])
        report_uri, baseline_uri = job_locations(job)
        name, status, message = job["ProcessingJobName"], job["ProcessingJobStatus"], job.get("ExitMessage")
        report = load_report(services.store, report_uri, baseline_statistics or baseline_uri,
                             expect_violations=(message or "").startswith("CompletedWithViolations"))
        heading = f"Execution {name}"
    elif execution.startswith("s3://"):
        report = load_report(services.store, execution, baseline_statistics, expect_violations=False)
        name = execution.rstrip("/").rsplit("/", 1)[-1] or "report"
        heading = f"Report {execution}"
    else:
        raise SystemExit("watchkeeper report: EXECUTION must be a processing job ARN or an s3:// report URI")
    html = render(
        "report.html",
        inline_css=stylesheet(),
        heading=heading,
        status=status,
        message=message,
        written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        principal=None,
        **report_view(report),
    )
    return html, name

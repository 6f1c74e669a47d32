"""`watchkeeper --help` (and parsing any command line) loads no heavy library: each command imports what it
runs when it runs it. `baseline` and `analyze` on local files load only what reading that format and writing
that job's files need (issue 13: the CLI starts fast). Checked on the modules a fresh interpreter has loaded,
not on a timing (bench/cli.py measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("polars", "numpy", "pyarrow", "sqlalchemy", "alembic", "starlette", "uvicorn", "botocore", "boto3",
         "scipy", "pandas", "aiohttp", "httpx", "dask", "distributed")

# What a baseline or analysis of local files never needs: the progress bar's library when no bar is shown,
# the server's and the other commands' machinery, object stores (s3:// and the embedded folder), the Dask
# executor, the sandbox, model quality, dashboard rendering.
NOT_FOR_LOCAL_ANALYSIS = (
    "tqdm", "jinja2", "sqlalchemy", "alembic", "boto3", "botocore", "starlette", "uvicorn", "aiohttp", "httpx",
    "dask", "distributed", "scipy", "pandas", "pyarrow", "jmespath",
    "watchkeeper.config",
    "watchkeeper.commands.serve", "watchkeeper.commands.run", "watchkeeper.commands.backfill",
    "watchkeeper.commands.report", "watchkeeper.commands.demo", "watchkeeper.commands.ground_truth",
    "watchkeeper.commands._executions",
    "watchkeeper.storage.local", "watchkeeper.storage.s3", "watchkeeper.storage.files",
    "watchkeeper.jobs.executors", "watchkeeper.jobs.analyzers.distributed", "watchkeeper.jobs.sandbox",
    "watchkeeper.jobs.runner", "watchkeeper.jobs.launch",
    "watchkeeper.analysis.model_quality", "watchkeeper.analysis.model_quality_metrics",
    "watchkeeper.analysis.model_quality_states", "watchkeeper.jobs.analyzers.model_quality",
    "watchkeeper.store", "watchkeeper.services", "watchkeeper.api", "watchkeeper.web", "watchkeeper.scheduling",
)
# ... and, reading a CSV, the capture reader; analysing, the baseline's state file; a baseline, the checks.
CAPTURE_READER = ("watchkeeper.capture.reader", "watchkeeper.capture.payloads")
STATE_FILE = "watchkeeper.analysis.state_file"
CHECKS = ("watchkeeper.analysis.checks", "watchkeeper.analysis.drift", "watchkeeper.analysis.distance")

PROBE = """
import contextlib, io, json, sys
from watchkeeper import cli
parser = cli.build_parser()
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    parser.parse_args(sys.argv[1:])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

# Runs a whole command line as the console script does and lists every module then loaded.
RUN = """
import contextlib, io, json, sys
from watchkeeper import cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    cli.main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""


def loaded(*argv: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def run_loaded(*argv: str, cwd: Path) -> set[str]:
    """The modules loaded by running `watchkeeper *argv` in a fresh interpreter (the command must succeed)."""
    out = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def unneeded(modules: set[str], names: tuple[str, ...] | list[str]) -> list[str]:
    """The `names` loaded (a package counts when it or any module below it is)."""
    return sorted(name for name in names if any(m == name or m.startswith(name + ".") for m in modules))


def test_help_loads_no_heavy_library():
    modules = loaded("--help")
    assert "watchkeeper" in modules
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_parsing_a_command_line_loads_no_heavy_library():
    modules = loaded("analyze", "--input", "capture/", "--output", "out/", "--help")
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


@pytest.mark.parametrize("command", ["baseline", "analyze", "ground-truth", "run", "backfill", "report", "demo"])
def test_a_command_loads_only_its_own_module(command, tmp_path):
    modules = run_loaded(command, "--help", cwd=tmp_path)
    own = f"watchkeeper.commands.{command.replace('-', '_')}"
    others = {m for m in modules if m.startswith("watchkeeper.commands.") and not m.startswith(own)}
    assert own in modules
    assert others <= {"watchkeeper.commands._analysis", "watchkeeper.commands._executions"}, sorted(others)
    assert "watchkeeper.config" not in modules or command in ("run", "backfill", "report")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A 3-row CSV with a header, a 3-record capture folder, and a baseline of each."""
    root = tmp_path_factory.mktemp("cli-imports")
    (root / "tiny.csv").write_text("a,b,c\n1,x,2.5\n2,y,3.5\n3,x,4.5\n")
    hour = root / "capture" / "ep" / "AllTraffic" / "2024" / "01" / "01" / "00"
    hour.mkdir(parents=True)
    records = [{"captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": row, "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5", "encoding": "CSV"}},
        "eventMetadata": {"eventId": str(i), "inferenceTime": f"2024-01-01T00:0{i}:00Z"}, "eventVersion": "0"}
        for i, row in enumerate(("1,x,2.5", "2,y,3.5", "3,x,4.5"))]
    (hour / "00-00-000-abc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "capture.csv").write_text("0.5,1,x,2.5\n0.5,2,y,3.5\n")
    for dataset, out, header in (("tiny.csv", "base", ["--header"]), ("capture.csv", "capture-base", [])):
        run_loaded("baseline", "--dataset", dataset, "--format", "csv", *header, "--output", out,
                   "--no-progress", cwd=root)
    return root


def test_baseline_of_a_local_csv_loads_only_what_it_needs(files):
    modules = run_loaded("baseline", "--dataset", "tiny.csv", "--format", "csv", "--header", "--output", "out-b",
                         "--no-progress", cwd=files)
    assert (files / "out-b" / "statistics.json").exists()
    assert unneeded(modules, [*NOT_FOR_LOCAL_ANALYSIS, *CAPTURE_READER, *CHECKS]) == []


def test_analysis_of_a_local_csv_loads_only_what_it_needs(files):
    modules = run_loaded("analyze", "--input", "tiny.csv", "--format", "csv", "--header",
                         "--baseline-statistics", "base/statistics.json",
                         "--baseline-constraints", "base/constraints.json", "--output", "out-a", "--no-progress",
                         cwd=files)
    assert (files / "out-a" / "constraint_violations.json").exists()
    assert unneeded(modules, [*NOT_FOR_LOCAL_ANALYSIS, *CAPTURE_READER, STATE_FILE]) == []


def test_analysis_of_a_local_capture_folder_loads_only_what_it_needs(files):
    modules = run_loaded("analyze", "--input", "capture", "--baseline-statistics", "capture-base/statistics.json",
                         "--baseline-constraints", "capture-base/constraints.json", "--output", "out-c",
                         "--no-progress", cwd=files)
    assert (files / "out-c" / "constraint_violations.json").exists()
    assert "watchkeeper.capture.reader" in modules
    assert unneeded(modules, [*NOT_FOR_LOCAL_ANALYSIS, STATE_FILE]) == []

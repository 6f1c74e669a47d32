"""`watchkeeper --help` (and parsing any command line) loads no heavy library: each command imports what it
runs when it runs it. Checked on the modules a fresh interpreter has loaded, not on a timing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("polars", "numpy", "pyarrow", "sqlalchemy", "alembic", "starlette", "uvicorn", "botocore", "boto3",
         "scipy", "pandas", "aiohttp", "httpx", "dask", "distributed")

PROBE = """
import contextlib, io, json, sys
from watchkeeper import cli
parser = cli.build_parser()
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    parser.parse_args(sys.argv[1:])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded(*argv: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_loads_no_heavy_library():
    modules = loaded("--help")
    assert "watchkeeper" in modules
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_parsing_a_command_line_loads_no_heavy_library():
    modules = loaded("analyze", "--input", "capture/", "--output", "out/", "--help")
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))

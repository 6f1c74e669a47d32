"""`watchkeeper analyze --dask ADDRESS` writes the reports of the single-process command, and dask is imported
only by the code path that uses it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.dask.conftest import table, write_csv
from watchkeeper.cli import main


def run(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return done.value.code


def test_analyze_on_a_scheduler_writes_the_single_process_reports(cluster, tmp_path):
    write_csv(tmp_path / "baseline" / "a.csv", table(3_000, 1))
    write_csv(tmp_path / "window" / "a.csv", table(2_000, 2, shift=2.0), short_every=100)
    write_csv(tmp_path / "window" / "b.csv", table(500, 3, shift=2.0))
    assert run("baseline", "--dataset", str(tmp_path / "baseline"), "--format", "csv", "--header",
               "--output", str(tmp_path / "base"), "--no-progress") == 0
    common = ["analyze", "--input", str(tmp_path / "window"), "--format", "csv", "--header", "--no-progress",
              "--baseline-statistics", str(tmp_path / "base" / "statistics.json"),
              "--baseline-constraints", str(tmp_path / "base" / "constraints.json")]
    assert run(*common, "--output", str(tmp_path / "one")) == 0
    assert run(*common, "--output", str(tmp_path / "two"), "--dask", cluster.scheduler_address,
               "--log", str(tmp_path / "two.log")) == 0
    assert "on a cluster" in (tmp_path / "two.log").read_text()
    for name in ("constraints.json", "constraint_violations.json"):
        assert (tmp_path / "two" / name).read_text() == (tmp_path / "one" / name).read_text()


def test_the_command_line_does_not_import_dask_until_asked():
    code = ("import sys, watchkeeper.cli, watchkeeper.commands.analyze, watchkeeper.jobs.runner; "
            "assert not {'dask', 'distributed'} & set(sys.modules), 'dask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)

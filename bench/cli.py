"""How fast each `watchkeeper` command starts (issue 13: "the CLI starts in under 0.3 s").

    .venv/bin/python bench/cli.py [--runs 5] [--only baseline-csv,analyze-csv] [--compare /tmp/old/src]
        [--bytecode-cache /tmp/wk-pyc]

Runs each command as the console script does (`.venv/bin/watchkeeper ...`), each run a fresh process, the
commands taken in turn (round-robin, so a noisy moment of a shared machine spreads over all of them), and
prints per command the median of `--runs` runs: wall seconds (start to exit) and CPU seconds (user + sys of
the process and its children, from wait4). `baseline` and `analyze` run end to end on a 3-row CSV and a
3-record capture folder (files written, no progress bar); `serve` is timed until GET /healthz answers (its CPU
until then, from /proc), on a data folder migrated by a first start. Two floors are measured the same way:
`python -c pass` and `python -c "import polars, numpy"` (what every analysis imports).

`--compare` also runs another checkout's code (PYTHONPATH=<checkout>/src), each of its runs right after the
same run of this checkout's, for a before/after at the same moment of the machine:

    git worktree add /tmp/old <commit> && .venv/bin/python bench/cli.py --compare /tmp/old/src

`--bytecode-cache DIR` lets the commands write and read compiled bytecode under DIR (PYTHONPYCACHEPREFIX),
as an installed wheel has it; without it the environment decides (with PYTHONDONTWRITEBYTECODE=1, as on the
project's machine, every Watchkeeper module is compiled from source at each start). A warm-up run of each
command is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
TINY_CSV = "a,b,c\n1,x,2.5\n2,y,3.5\n3,x,4.5\n"
HELP_COMMANDS = ("serve", "baseline", "analyze", "ground-truth", "run", "backfill", "report", "demo")


@dataclass
class Measured:
    """One command's runs: wall and CPU seconds each."""

    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def row(self) -> str:
        wall, cpu = statistics.median(self.wall), statistics.median(self.cpu)
        return (f"| {self.name} | {wall:.3f} | {min(self.wall):.3f}-{max(self.wall):.3f} | {cpu:.3f} |")


def _watchkeeper(*args: str) -> list[str]:
    return [str(VENV_BIN / "watchkeeper"), *args]


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + sys, children included) seconds of one process; raises if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _process_cpu(pid: int) -> float:
    """User + sys seconds of a running process (and its reaped children), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def serve_once(env: dict[str, str], data_dir: Path, timeout: float = 60.0) -> tuple[float, float]:
    """Wall and CPU seconds from starting `watchkeeper serve` until GET /healthz answers 200."""
    port = _free_port()
    argv = _watchkeeper("serve", "--port", str(port), "--data-dir", str(data_dir), "--log-level", "warning")
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - start, _process_cpu(process.pid)
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"serve exited {process.returncode} before answering") from None
                if time.perf_counter() - start > timeout:
                    raise RuntimeError("serve did not answer /healthz in time") from None
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait(timeout=30)


def make_inputs(root: Path, env: dict[str, str]) -> None:
    """A 3-row CSV, a 3-record capture folder and the baselines to check them against."""
    (root / "tiny.csv").write_text(TINY_CSV)
    hour = root / "capture" / "ep" / "AllTraffic" / "2024" / "01" / "01" / "00"
    hour.mkdir(parents=True)
    records = []
    for i, (features, prediction) in enumerate((("1,x,2.5", "0.7"), ("2,y,3.5", "0.2"), ("3,x,4.5", "0.9"))):
        records.append(json.dumps({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": features,
                                  "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": prediction,
                                   "encoding": "CSV"}},
            "eventMetadata": {"eventId": f"event-{i}", "inferenceTime": f"2024-01-01T00:0{i}:00Z"},
            "eventVersion": "0"}))
    (hour / "00-00-000-bench.jsonl").write_text("\n".join(records) + "\n")
    (root / "capture.csv").write_text("0.7,1,x,2.5\n0.2,2,y,3.5\n")  # prediction first, as captured
    run_once(_watchkeeper("baseline", "--dataset", "tiny.csv", "--format", "csv", "--header", "--output",
                          "base", "--no-progress"), env, root)
    run_once(_watchkeeper("baseline", "--dataset", "capture.csv", "--format", "csv", "--output", "capture-base",
                          "--no-progress"), env, root)


def commands(root: Path, env: dict[str, str]) -> dict[str, Callable[[], tuple[float, float]]]:
    """Each measured command: a function running it once."""
    def cli(*args: str) -> Callable[[], tuple[float, float]]:
        return lambda: run_once(_watchkeeper(*args), env, root)

    out = iter(range(1_000_000))
    table: dict[str, Callable[[], tuple[float, float]]] = {
        "python -c pass": lambda: run_once(_python("pass"), env, root),
        "python -c 'import polars, numpy'": lambda: run_once(_python("import polars, numpy"), env, root),
        "watchkeeper --help": cli("--help"),
    }
    for command in HELP_COMMANDS:
        table[f"watchkeeper {command} --help"] = cli(command, "--help")
    table["baseline-csv"] = lambda: run_once(_watchkeeper(
        "baseline", "--dataset", "tiny.csv", "--format", "csv", "--header", "--output", f"out/{next(out)}",
        "--no-progress"), env, root)
    table["analyze-csv"] = lambda: run_once(_watchkeeper(
        "analyze", "--input", "tiny.csv", "--format", "csv", "--header",
        "--baseline-statistics", "base/statistics.json", "--baseline-constraints", "base/constraints.json",
        "--output", f"out/{next(out)}", "--no-progress"), env, root)
    table["analyze-capture"] = lambda: run_once(_watchkeeper(
        "analyze", "--input", "capture", "--baseline-statistics", "capture-base/statistics.json",
        "--baseline-constraints", "capture-base/constraints.json", "--output", f"out/{next(out)}",
        "--no-progress"), env, root)
    table["serve (until /healthz)"] = lambda: serve_once(env, root / "serve-data")
    return table


def child_env(src: str | None, bytecode_cache: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode_cache
    return env


def print_table(title: str, measured: dict[str, Measured]) -> None:
    print(f"\n{title}")
    print("| command | wall median (s) | wall range (s) | CPU user+sys median (s) |")
    print("|---|---|---|---|")
    for item in measured.values():
        print(item.row())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is shown)")
    parser.add_argument("--only", help="comma-separated names of the commands to run (as in the table)")
    parser.add_argument("--compare", metavar="SRC", help="also run another checkout's src folder, interleaved")
    parser.add_argument("--bytecode-cache", metavar="DIR", help="let the commands cache bytecode under DIR")
    args = parser.parse_args()

    trees = {"this checkout": None, **({f"code from {args.compare}": args.compare} if args.compare else {})}
    with tempfile.TemporaryDirectory(prefix="wk-bench-cli-") as tmp:
        tables = {}
        for number, (label, src) in enumerate(trees.items()):
            env = child_env(src, args.bytecode_cache)
            root = Path(tmp) / str(number)
            root.mkdir()
            make_inputs(root, env)
            table = commands(root, env)
            if args.only:
                table = {name.strip(): table[name.strip()] for name in args.only.split(",")}
            tables[label] = table
        measured = {label: {name: Measured(name) for name in table} for label, table in tables.items()}
        names = list(next(iter(tables.values())))
        for run in range(args.runs + 1):  # run 0 warms up (bytecode cache, serve's migrations, page cache)
            for name in names:
                for label, table in tables.items():
                    wall, cpu = table[name]()
                    if run:
                        measured[label][name].wall.append(wall)
                        measured[label][name].cpu.append(cpu)
    cache = "bytecode cached" if args.bytecode_cache else "bytecode as the environment decides"
    print(f"{args.runs} runs each; load average {os.getloadavg()[0]:.1f} at the end; {cache}")
    for label, table in measured.items():
        print_table(label, table)


if __name__ == "__main__":
    main()

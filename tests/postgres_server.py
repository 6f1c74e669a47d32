"""A throwaway PostgreSQL cluster for tests, from Debian's `postgresql` package (.ci/run installs it).

Set WATCHKEEPER_TEST_POSTGRES_URL to use a server you already run instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from tests.server_process import free_port


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresCluster:
    def __init__(self) -> None:
        self.bin_dir = _bin_dir()
        self.root = Path(f"/tmp/watchkeeper-pg-{uuid.uuid4().hex[:8]}")
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root

    @property
    def available(self) -> bool:
        return self.bin_dir is not None

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        assert self.bin_dir is not None
        self.root.mkdir(mode=0o777)
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(data), "-U", "watchkeeper", "--auth=trust", "-E", "UTF8"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.root / "log"),
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-w",
            "start",
        )
        self._run(
            str(self.bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "watchkeeper",
            "watchkeeper",
        )
        return f"postgresql+psycopg://watchkeeper@127.0.0.1:{self.port}/watchkeeper"

    def create_database(self, name: str) -> str:
        self._run(
            str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "watchkeeper", name
        )
        return f"postgresql+psycopg://watchkeeper@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.bin_dir is None or not self.root.exists():
            return
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)

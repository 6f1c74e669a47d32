"""Start the real `watchkeeper serve` on loopback in a child process, as a user would."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
from botocore.config import Config

# Ports free_port hands out: below Linux's ephemeral range (32768-60999), which bind(port 0) and outgoing
# connections draw from, so no other program's socket takes one between our choosing it and a server binding it.
PORTS = range(20000, 32768)
_turn: int | None = None


def free_port() -> int:
    """A loopback port nothing listens on now, for a server the caller starts next.

    Under pytest-xdist each worker hands out ports from its own slice of PORTS, in turn from a random start:
    two workers never choose the same port (the window between choosing it and the server binding it lasts
    seconds), nor does one worker choose a port twice before wrapping around its slice.
    """
    global _turn
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")) % count
    size = len(PORTS) // count
    if _turn is None:
        _turn = random.randrange(size)
    for _ in range(size):
        port = PORTS.start + index * size + _turn % size
        _turn += 1
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start + index * size}-{PORTS.start + (index + 1) * size - 1}")


def write_auth_file(path: Path, keys: dict[str, tuple[str, str, str]]) -> Path:
    sections = [
        f"[{user}]\naws_access_key_id = {access}\naws_secret_access_key = {secret}\naccount_id = {account}\n"
        for user, (access, secret, account) in keys.items()
    ]
    path.write_text("\n".join(sections), encoding="utf-8")
    return path


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        keys: dict[str, tuple[str, str, str]] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        """`keys`: user → (access key, secret, account) written to an auth file; clients sign with the first."""
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = env or {}
        self.keys = keys
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> ServerProcess:
        """Start and wait for /healthz. `timeout` is a safety net only: a start takes 1-3 s, but on 2 busy cores
        (two test workers and other load) one has taken over 30 s."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "WATCHKEEPER_SCHEDULE_ACTIVATION_SECONDS": "0.3", **self.env}
        if self.keys:
            auth_file = write_auth_file(self.data_dir / f"auth-{self.port}.ini", self.keys)
            env["WATCHKEEPER_AUTH_FILE"] = str(auth_file)
        log = open(self.log_path, "ab")  # the child writes to it for its lifetime
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watchkeeper",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                *self.args,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()  # not left running behind the failed test
        raise RuntimeError(f"server did not start in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def client(  # type: ignore[no-untyped-def]
        self,
        service: str = "sagemaker",
        region: str = "us-east-1",
        retries: int = 0,
        keys: tuple[str, str] | None = None,
    ):
        if keys is None:
            keys = next(iter(self.keys.values()))[:2] if self.keys else ("test", "test")
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            config=Config(retries={"max_attempts": retries + 1, "mode": "standard"}),
        )

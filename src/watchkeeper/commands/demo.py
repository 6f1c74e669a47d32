"""`watchkeeper demo`: the whole monitoring loop in under a minute, printing what it does and where to look.

By default it starts its own server (port 8090 when free, else any; a new temporary data folder unless
--data-dir) so a user's `make run` data stays untouched and the demo's resource names are free; the server
stays up for the dashboard until Ctrl-C (--exit: stop at once). With --endpoint-url it uses a running server
instead (`make run`), signing with the environment's AWS keys when set, and names its resources
`churn-demo-<time>`. Either way the bundled model server (watchkeeper/demo/model.py) runs in this process and
demo/loop.py makes the calls through boto3.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # boto3, numpy and the demo are imported when the demo runs: `watchkeeper --help` stays fast
    from watchkeeper.demo.loop import Outcome


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the whole monitoring loop on a bundled model and dataset")
    parser.add_argument("--port", type=int, default=8090, help="the demo server's port (default 8090, else any free)")
    parser.add_argument("--data-dir", type=Path, help="the demo server's data folder (default: a new temporary one)")
    parser.add_argument("--endpoint-url", help="use this running Watchkeeper (e.g. http://127.0.0.1:8080) instead")
    parser.add_argument("--exit", action="store_true", help="stop the demo's server when the loop is done")
    parser.set_defaults(func=_run)


def _clients(url: str, own: bool) -> Any:
    import boto3
    from botocore.config import Config

    # The demo's own server has no auth file: any keys do. A running one may check them: the environment's.
    keys = {} if not own and os.environ.get("AWS_ACCESS_KEY_ID") else {"aws_access_key_id": "demo"}
    if keys:
        keys["aws_secret_access_key"] = "demo"
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"})

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=url, region_name="us-east-1", config=config, **keys)

    return client


def _run(args: argparse.Namespace) -> int:
    from watchkeeper.demo.loop import NAME, DemoLoop
    from watchkeeper.demo.model import ModelServer
    from watchkeeper.demo.process import DemoServer, free_port

    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:5.1f}s] {text}", flush=True)

    own = not args.endpoint_url
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="watchkeeper-demo-"))) if own else None
    server = DemoServer(data_dir, free_port(args.port)) if data_dir is not None else None
    model = ModelServer().start()
    try:
        if server is not None:
            server.start()
            say(f"server: {server.url} (its own; data in {data_dir}, log {server.log_path})")
            url, name = server.url, NAME
        else:
            url, name = args.endpoint_url.rstrip("/"), f"{NAME}-{time.strftime('%H%M%S')}"
            say(f"server: {url} (running already)")
        outcome = DemoLoop(url, _clients(url, own), say, name).run(model.url)
        say(f"done in {time.monotonic() - started:.1f} s. Where to look:")
        _where(outcome, url, data_dir)
        if server is None or args.exit:
            return 0
        print("The server keeps running for the dashboard; Ctrl-C stops it.", flush=True)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        if server is not None:
            server.stop()
        model.stop()


def _where(outcome: Outcome, url: str, data_dir: Path | None) -> None:
    lines = [f"dashboard:   {outcome.dashboard}", f"report:      {outcome.report_uri}/"]
    if data_dir is not None:
        folder = data_dir / "s3" / outcome.report_uri.removeprefix("s3://")
        lines += [
            f"  on disk:   {folder}",
            f"one file:    watchkeeper report {outcome.execution_arn} --data-dir {data_dir}",
        ]
    lines += [f"Prometheus:  {url}/metrics", f"boto3:       endpoint_url={url!r}, region us-east-1"]
    for line in lines:
        print(f"  {line}", flush=True)

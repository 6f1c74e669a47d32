"""`watchkeeper demo`: the whole monitoring loop in under a minute, printing what it does and where to look.

It starts its own server (a free port, 8090 when free; a fresh data folder unless --data-dir) and the bundled
model server (watchkeeper/demo/), runs demo/loop.py through boto3, prints the report, the drift metrics and
the dashboard's address, then keeps the server up for the dashboard until Ctrl-C (--exit: stop at once).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from watchkeeper.demo.loop import DemoLoop
from watchkeeper.demo.model import ModelServer
from watchkeeper.demo.process import DemoServer, free_port


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the whole monitoring loop on a bundled model and dataset")
    parser.add_argument("--port", type=int, default=8090, help="the demo server's port (default 8090, else any free)")
    parser.add_argument("--data-dir", type=Path, help="the demo server's data folder (default: a new temporary one)")
    parser.add_argument("--exit", action="store_true", help="stop the server when the loop is done")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:5.1f}s] {text}", flush=True)

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="watchkeeper-demo-"))
    server = DemoServer(data_dir, free_port(args.port))
    model = ModelServer().start()
    try:
        server.start()
        say(f"server: {server.url} (data in {data_dir}, log {server.log_path})")

        def clients(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=server.url,
                region_name="us-east-1",
                aws_access_key_id="demo",
                aws_secret_access_key="demo",
                config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            )

        outcome = DemoLoop(server.url, data_dir, clients, say).run(model.url)
        say(f"done in {time.monotonic() - started:.1f} s. Where to look:")
        print(f"  dashboard:   {outcome.dashboard}", flush=True)
        print(f"  report:      {outcome.report_folder}", flush=True)
        print(f"  one file:    watchkeeper report {outcome.execution_arn} --data-dir {data_dir}", flush=True)
        print(f"  Prometheus:  {server.url}/metrics", flush=True)
        print(f"  boto3:       endpoint_url={server.url!r} (any keys; region us-east-1)", flush=True)
        if args.exit:
            return 0
        print("The server keeps running for the dashboard; Ctrl-C stops it.", flush=True)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        server.stop()
        model.stop()

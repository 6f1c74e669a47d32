"""`watchkeeper serve`: the API server on embedded defaults (SQLite + local object folder)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from watchkeeper.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the API server")
    parser.add_argument("--host", help="address to listen on (WATCHKEEPER_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (WATCHKEEPER_PORT, default 8080)")
    parser.add_argument(
        "--data-dir", type=Path, help="data folder (WATCHKEEPER_DATA_DIR, default ./.watchkeeper)"
    )
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (WATCHKEEPER_DATABASE_URL; default SQLite in data dir)"
    )
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(func=_run)


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "database_url": args.database_url,
    }
    return dataclasses.replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from watchkeeper.api.app import create_app
    from watchkeeper.services.container import Services

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_from_args(args)
    app = create_app(Services.build(settings))
    print(
        f"watchkeeper: serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, access_log=False)
    return 0

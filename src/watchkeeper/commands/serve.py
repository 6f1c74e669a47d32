"""`watchkeeper serve`: the API server on embedded defaults (SQLite + local object folder)."""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import logging
import sys
from pathlib import Path

from watchkeeper.config import Settings

log = logging.getLogger(__name__)


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
    parser.add_argument(
        "--auth-file",
        help="AWS credentials INI file with the keys that may sign requests (WATCHKEEPER_AUTH_FILE; docs/security.md)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="listen on a non-loopback address without keys: anyone who reaches the port is trusted",
    )
    parser.add_argument(
        "--role",
        choices=("all", "api", "scheduler", "worker"),
        help="what this process runs (WATCHKEEPER_ROLE, default all): api = the HTTP APIs only; scheduler = "
        "schedules, endpoints and alarms; worker = processing jobs. Roles without the API serve GET /healthz "
        "alone. Run any number of each on one PostgreSQL (docs/replicas.md)",
    )
    parser.add_argument("--log-level", default="info")
    parser.set_defaults(func=_run)


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "auth_file": args.auth_file,
        "insecure": args.insecure,
        "role": getattr(args, "role", None),
    }
    return dataclasses.replace(Settings(), **{k: v for k, v in overrides.items() if v is not None})


def serves_api(role: str) -> bool:
    """api/roles.py decides what each role runs; this light copy keeps the CLI's imports small."""
    return role in ("all", "api")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


INSECURE_WARNING = (
    "watchkeeper: WARNING: --insecure: serving on {host} with no keys. Anyone who can reach this port can "
    "create jobs that run commands on this machine and read every resource. Configure keys with --auth-file "
    "(docs/security.md)."
)


def check_exposure(settings: Settings) -> str | None:
    """Why the server must not start as configured, or None. Keys are required off loopback, except for the
    roles without the API: they answer GET /healthz alone, which needs no key anyway."""
    if settings.auth_file or _is_loopback(settings.host) or settings.insecure or not serves_api(settings.role):
        return None
    return (
        f"watchkeeper: refusing to serve on {settings.host} without authentication. Anyone who reaches the port "
        "could run commands on this machine through processing jobs. Give keys with --auth-file FILE (or "
        "WATCHKEEPER_AUTH_FILE): an AWS credentials INI file, one [section] per user with aws_access_key_id, "
        "aws_secret_access_key and an optional account_id. To serve without keys anyway, add --insecure."
    )


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from watchkeeper.api.app import create_app
    from watchkeeper.api.connections import bounded_protocol
    from watchkeeper.api.roles import ROLES
    from watchkeeper.auth.keys import AuthFileError, load_keys
    from watchkeeper.services.container import Services

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_from_args(args)
    if settings.role not in ROLES:
        print(f"watchkeeper: WATCHKEEPER_ROLE={settings.role!r} is not one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    refusal = check_exposure(settings)
    if refusal:
        print(refusal, file=sys.stderr, flush=True)
        return 2
    keys = None
    if settings.auth_file:
        try:
            keys = load_keys(Path(settings.auth_file), settings.account_id)
        except AuthFileError as exc:
            print(f"watchkeeper: {exc}", file=sys.stderr, flush=True)
            return 2
    elif not _is_loopback(settings.host) and serves_api(settings.role):
        warning = INSECURE_WARNING.format(host=settings.host)
        print(warning, file=sys.stderr, flush=True)
        log.warning(warning)
    app = create_app(Services.build(settings), keys=keys)
    auth = f"{len(keys)} key(s) from {settings.auth_file}" if keys else "no authentication"
    if serves_api(settings.role):
        print(
            f"watchkeeper: serving on http://{settings.host}:{settings.port} (role {settings.role}; data in "
            f"{settings.data_dir}; {auth})",
            flush=True,
        )
    else:
        print(
            f"watchkeeper: role {settings.role} (no API): health at http://{settings.host}:{settings.port}/healthz "
            f"(data in {settings.data_dir})",
            flush=True,
        )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=False,
        http=bounded_protocol(settings.request_timeout_seconds),
        timeout_keep_alive=max(1, round(settings.keep_alive_seconds)),
        limit_concurrency=settings.max_connections,
    )
    return 0

"""The S3 API for `api/app.py`: served over the embedded store only (with an S3-compatible store
configured, clients talk to that store directly)."""

from __future__ import annotations

from watchkeeper.s3api.access import Buckets
from watchkeeper.s3api.app import S3App
from watchkeeper.s3api.files import Files
from watchkeeper.s3api.request import Deps
from watchkeeper.services.container import Services
from watchkeeper.storage import LocalObjectStore


def build_s3(services: Services) -> S3App | None:
    if not isinstance(services.store, LocalObjectStore):
        return None
    settings = services.settings
    files = Files(services.store)
    deps = Deps(files, Buckets(services.db, files), settings.s3_max_object_mb * 1024 * 1024)
    domains = [d.strip().lower() for d in settings.s3_domains.split(",") if d.strip()]
    return S3App(deps, domains, settings.request_timeout_seconds)

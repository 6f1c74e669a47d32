"""The dashboard's routes under /ui: sign-in and sign-out, then three pages (schedules, a schedule, an
execution). The session gate (gate.py) runs before every one of them."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from watchkeeper.api.edge import PRINCIPAL_KEY, REGION_KEY, request_context
from watchkeeper.auth.sigv4 import Principal
from watchkeeper.errors import AwsError, ResourceNotFound, ValidationError
from watchkeeper.services.container import Services
from watchkeeper.web import pages
from watchkeeper.web.gate import SESSION_KEY, SIGN_IN, SessionGate, cookie_header, safe_next
from watchkeeper.web.render import render
from watchkeeper.web.session import Session, SessionCodec, load_secret

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
STATIC = Path(__file__).parent / "static"


def _page(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    session: Session = request.scope[SESSION_KEY]
    principal: Principal | None = request.scope.get(PRINCIPAL_KEY)
    html = render(template, session=session, principal=principal, csrf=session.csrf,
                  region=request.scope.get(REGION_KEY, ""), **context)
    return HTMLResponse(html, status_code=status)


def build_dashboard(services: Services, keys: Mapping[str, Principal] | None, default_principal: Principal) -> ASGIApp:
    settings = services.settings
    codec = SessionCodec(load_secret(settings.ui_session_secret, settings.data_dir), settings.ui_session_hours * 3600)
    open_access = keys is None

    async def sign_in_form(request: Request) -> Response:
        return _page(request, "signin.html", next=safe_next(request.query_params.get("next")), error=None,
                     open_access=open_access, default_region=settings.default_region)

    async def sign_in(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        access, secret = form.get("access_key_id", "").strip(), form.get("secret_access_key", "")
        region = form.get("region", "").strip() or settings.default_region
        target = safe_next(form.get("next", ""))
        principal = default_principal if open_access else (keys or {}).get(access)
        error = None
        if not REGION.fullmatch(region) or len(region) > 32:
            error = "The region is not a region name (e.g. us-east-1)."
        elif not open_access and (principal is None or not hmac.compare_digest(
                secret.encode(), principal.secret_key.encode())):
            error = "The access key id or secret is not right."
        if error is not None or principal is None:
            return _page(request, "signin.html", status=401, next=target, error=error, open_access=open_access,
                         default_region=settings.default_region)
        # A new session (new CSRF token) at sign-in: nothing from before it carries over.
        _, value = codec.issue(services.clock.now(), principal.access_key or "default", principal.account, region)
        response = RedirectResponse(target, status_code=303)
        response.headers.append("set-cookie", cookie_header(value, request.scope, codec.ttl_seconds).decode())
        return response

    async def sign_out(request: Request) -> Response:
        _, value = codec.issue(services.clock.now(), None, None, settings.default_region)
        response = RedirectResponse(SIGN_IN, status_code=303)
        response.headers.append("set-cookie", cookie_header(value, request.scope, codec.ttl_seconds).decode())
        return response

    async def schedules(request: Request) -> Response:
        data = await run_in_threadpool(pages.schedules_page, services, request_context(request),
                                       request.query_params.get("token"))
        return _page(request, "schedules.html", **data)

    async def schedule(request: Request) -> Response:
        data = await run_in_threadpool(pages.schedule_page, services, request_context(request),
                                       request.path_params["name"], request.query_params.get("token"))
        return _page(request, "schedule.html", **data)

    async def execution(request: Request) -> Response:
        data = await run_in_threadpool(pages.execution_page, services, request_context(request),
                                       request.path_params["job"])
        return _page(request, "execution.html", **data)

    async def not_found(request: Request, exc: Exception) -> Response:
        # ProcessingJobService.describe says a job is missing with a ValidationError, as SageMaker does.
        missing = isinstance(exc, ResourceNotFound) or (
            isinstance(exc, ValidationError) and exc.message.startswith("Could not find"))
        status = 404 if missing or getattr(exc, "status_code", 0) == 404 else 400
        message = exc.message if isinstance(exc, AwsError) else "No such page."
        if request.scope.get(SESSION_KEY) is None:
            return HTMLResponse(message, status_code=status)
        return _page(request, "error.html", status=status, message=message)

    app = Starlette(
        routes=[
            Route("/", schedules, methods=["GET"]),
            Route("/signin", sign_in_form, methods=["GET"]),
            Route("/signin", sign_in, methods=["POST"]),
            Route("/signout", sign_out, methods=["POST"]),
            Route("/schedules/{name}", schedule, methods=["GET"]),
            Route("/executions/{job}", execution, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={AwsError: not_found, 404: not_found},
    )
    return SessionGate(app, codec, keys, default_principal, settings.default_region, services.clock.now)

"""The handler contract: validated request in, response body out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from watchkeeper.services.container import Services
from watchkeeper.services.context import RequestContext

Handler = Callable[[Services, RequestContext, dict[str, Any]], dict[str, Any]]

"""uvicorn's HTTP protocol with a bounded head: it must arrive whole within the request timeout and stay under
MAX_HEAD_BYTES (httptools itself bounds neither).

uvicorn closes a connection that idles *after* a response (keep-alive timeout), but a connection that opens
and never sends a request, or sends half a head and stalls, is held forever. Here a timer runs from the
connection's start (and from the end of each response) until the next head is complete; the body's own
deadline is the edge middleware's (api/edge.py).
"""

from __future__ import annotations

import asyncio
from asyncio import TimerHandle

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

MAX_HEAD_BYTES = 64 * 1024  # request line + headers; httptools itself sets no bound


def bounded_protocol(head_timeout_seconds: float, max_head_bytes: int = MAX_HEAD_BYTES) -> type[HttpToolsProtocol]:
    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(
            self,
            config: Config,
            server_state: ServerState,
            app_state: dict[str, object],
            _loop: asyncio.AbstractEventLoop | None = None,
        ) -> None:
            super().__init__(config, server_state, app_state, _loop)
            self._head_timer: TimerHandle | None = None
            self._head_bytes = 0  # bytes received while a head is incomplete

        def data_received(self, data: bytes) -> None:
            # Counted per chunk, not per header (a Python call per header cost 15 % of throughput): while the
            # head timer runs, no head has completed, so everything received so far is head.
            super().data_received(data)
            if self._head_timer is None or self.transport.is_closing():
                return
            self._head_bytes += len(data)
            if self._head_bytes > max_head_bytes:
                self._disarm()
                self.send_400_response(f"Request head exceeds {max_head_bytes} bytes.")

        def _arm(self) -> None:
            self._disarm()
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(head_timeout_seconds, self._head_overdue)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_overdue(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

    return BoundedHttpToolsProtocol

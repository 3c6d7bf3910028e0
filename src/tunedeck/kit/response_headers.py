"""The headers every answer carries, whatever produced it (a route, an error handler, a
middleware refusing a request, a mounted app, a crash).

``X-Content-Type-Options: nosniff`` (a browser never runs an answer as a type it was
not labelled with), ``Referrer-Policy: no-referrer``, and a Content-Security-Policy:
an answer that is not a page is allowed nothing (:data:`API_POLICY`: loaded as a
document by mistake or by a hostile link, it runs no script, loads nothing and cannot
be framed). A page sets its own policy (``web.headers``), which is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DEFAULT_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", API_POLICY),
    ("referrer-policy", "no-referrer"),
)
_STARTS = frozenset({"http.response.start", "websocket.http.response.start"})


class DefaultHeaders:
    """ASGI middleware: :data:`DEFAULT_HEADERS` on every HTTP answer (and WebSocket
    refusal) that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] in _STARTS:
                headers = MutableHeaders(raw=list(message.get("headers", ())))
                for name, value in DEFAULT_HEADERS:
                    headers.setdefault(name, value)
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""The request body size limit of every HTTP door: one pure ASGI middleware.

A body declared larger than the limit (``Content-Length``) is refused before the app
runs; a body without a length (chunked) is counted as it streams in, and refused the
moment it passes the limit: nothing past the limit is read, so a 100 MB body costs no
memory. Either way the answer is 413 with the standard error body and
``Connection: close`` (the rest of the body is never read). WebSockets (the live feed,
GraphQL subscriptions) are not HTTP requests and pass untouched; so do bodiless
requests (pages, SSE).

Starlette's ``RequestBodyLimitMiddleware`` only refuses once the app reads the body
(after authentication and database work) and answers plain text when the app never
reads it; this one answers first and in the one error shape.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunedeck.kit.errors import PayloadTooLarge, error_response


class BodySizeLimit:
    """Refuse HTTP request bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _answer_too_large(self.max_bytes, scope, receive, send)
            return
        await _CountedRequest(self, scope, receive, send).run()


async def _answer_too_large(max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
    refused = PayloadTooLarge(max_bytes)
    response = error_response(refused.status, refused.code, refused.message, refused.headers)
    await response(scope, receive, send)


class _CountedRequest:
    """One request whose body is counted as the app reads it."""

    def __init__(self, limit: BodySizeLimit, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit = limit
        self.scope = scope
        self.receive = receive
        self.send = send
        self.received = 0
        self.response_started = False
        self.refused = False

    async def run(self) -> None:
        try:
            await self.limit.app(self.scope, self.counted_receive, self.guarded_send)
        except PayloadTooLarge:
            if not self.refused:
                raise

    async def counted_receive(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_bytes:
                if not self.response_started:
                    # Answered here, whatever the app makes of the error raised below.
                    self.refused = True
                    await _answer_too_large(
                        self.limit.max_bytes, self.scope, self.receive, self.send
                    )
                raise PayloadTooLarge(self.limit.max_bytes)  # the app stops reading
        return message

    async def guarded_send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 went out; what the app answers to the error is dropped
        if message["type"] == "http.response.start":
            self.response_started = True
        await self.send(message)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the server refuses a malformed length before we see it

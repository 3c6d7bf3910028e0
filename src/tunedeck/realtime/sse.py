"""The live feed as Server-Sent Events: ``GET /v1/spotify/live`` with
``Accept: text/event-stream``.

Each message is one SSE event whose ``data`` is the message's JSON and whose ``id`` is
its id, so a browser's ``EventSource`` resumes by itself (``Last-Event-ID``); ``?since=``
does the same for other clients. A comment every ``live_keepalive_seconds`` keeps
proxies from timing the stream out. When the server closes the stream (revoked, too
slow, shutting down) it first sends an ``event: close`` whose data is
``{"type": "close", "code": ..., "reason": ...}``, with the WebSocket close codes. A
stream over a connection cap (``caps``) is refused with 429 ``too_many_connections``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from tunedeck.accounts.permissions import Principal
from tunedeck.kit.addresses import limit_key
from tunedeck.kit.errors import BadRequest, Forbidden, TuneDeckError
from tunedeck.kit.hosts import origin_allowed
from tunedeck.realtime.caps import OverCap, Slot, TooManyConnections
from tunedeck.realtime.credentials import LiveClient, credential_of, handshake_secret
from tunedeck.realtime.credentials import reads_of as client_reads
from tunedeck.realtime.hub import Closed
from tunedeck.realtime.live import Live
from tunedeck.realtime.protocol import Refused, parse_since

MEDIA_TYPE = "text/event-stream"
RETRY_MS = 2000
"""How long a browser waits before reconnecting (sent once, as ``retry:``)."""
KEEP_ALIVE = ": keep-alive\n\n"
"""What an idle stream sends every ``live_keepalive_seconds`` (a comment: no event)."""


class NotAcceptable(TuneDeckError):  # noqa: N818 (named like the status)
    status = 406
    code = "not_acceptable"


def frame(text: str, message_id: int | None = None, event: str | None = None) -> str:
    """One SSE event carrying ``text`` (JSON, so on one line)."""
    head = f"id: {message_id}\n" if message_id is not None else ""
    if event is not None:
        head += f"event: {event}\n"
    return f"{head}data: {text}\n\n"


async def stream(request: Request, live: Live, principal: Principal) -> Response:
    """The SSE response for an authenticated request (the route's dependency did that)."""
    if MEDIA_TYPE not in request.headers.get("accept", ""):
        raise NotAcceptable(
            "GET /v1/spotify/live is a WebSocket, or Server-Sent Events with "
            "'Accept: text/event-stream'"
        )
    if not origin_allowed(request, live.settings):
        raise Forbidden("origin not allowed", code="origin_not_allowed")
    try:
        since = parse_since(
            request.headers.get("last-event-id") or request.query_params.get("since"),
            where="Last-Event-ID",
        )
        secret = handshake_secret(request)
        reads = client_reads(principal)
    except Refused as refused:
        raise BadRequest(refused.reason) from None
    client = LiveClient(principal, credential_of(principal, secret), reads)
    try:
        slot = live.caps.authenticated(
            client.credential, client.account_id, limit_key(request.scope), "sse"
        )
    except OverCap as over:
        raise TooManyConnections(over) from None
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return HeldStream(
        _events(live, client, since, slot), slot, media_type=MEDIA_TYPE, headers=headers
    )


class HeldStream(StreamingResponse):
    """A stream holding a connection slot, given back once the response is over, however
    it ends (the stream may be cancelled before its generator ever ran)."""

    def __init__(self, content: AsyncIterator[str], slot: Slot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


async def _events(
    live: Live, client: LiveClient, since: int | None, slot: Slot
) -> AsyncIterator[str]:
    # Runs for as long as the client listens; Starlette cancels it when the client leaves.
    yield f"retry: {RETRY_MS}\n\n"
    try:
        with live.stream(client, "sse", since) as stream:
            while True:
                out = await stream.next_within(live.settings.live_keepalive_seconds)
                yield KEEP_ALIVE if out is None else frame(out.text, out.id)
    except Closed as closed:
        body = {"type": "close", "code": closed.code, "reason": closed.reason}
        yield frame(json.dumps(body), event="close")
    finally:
        slot.release()

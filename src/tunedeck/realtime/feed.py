"""``GET /v1/spotify/live``: the live feed, over WebSocket (this module) or SSE (``sse``).

A WebSocket client authenticates in the handshake (``Authorization: Bearer``, the
dashboard's session cookie, or ``?token=`` for clients that can do no better) or with a
first message ``{"type": "auth", "token": ..., "since": ...}`` (``?auth=message`` makes
the first message count even when the handshake carries a cookie). It then receives JSON
text frames: ``hello``, a fresh ``now_playing`` (after the events it missed, when it
resumes with ``since``), then whatever its account's channel carries that it may read.
Close codes: 4400 bad message, 4401 unauthenticated (nothing valid within
``live_auth_timeout_seconds``) or revoked, 4403 forbidden (origin, permission), 4408 too
slow, 4429 over a connection cap (``caps``) or too many failed sign-ins from the address,
1001 server shutting down, 1013 try again later (the database could not serve the
connection just now).

Once its opening is sent, a connection is *held* by the lean WebSocket (``lean_ws``,
the protocol ``tunedeck serve`` runs): the handler returns, the hub writes each message
to the socket as it arrives, and what the client sends (nothing is expected: any frame
closes it) is read as it comes, with no task per connection. Served by another server,
the handler keeps two tasks per connection: it reads the client and a sender writes the
queue. Either way a client that stops reading never holds up the hub and is closed
(4408) once ``live_queue_size`` messages wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request, WebSocket
from starlette.responses import Response
from starlette.websockets import WebSocketDisconnect, WebSocketState

from tunedeck.accounts.auth import AccessRule, GuardedRoute, declare_rule, requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.kit.addresses import limit_key
from tunedeck.kit.hosts import origin_allowed
from tunedeck.realtime import sse
from tunedeck.realtime.caps import OverCap, Slot
from tunedeck.realtime.credentials import LiveClient, authenticate, handshake_secret
from tunedeck.realtime.hub import Closed, Connection, Outgoing
from tunedeck.realtime.lean_ws import HeldSocket, hold_offered
from tunedeck.realtime.live import Live, LiveStream, live_of
from tunedeck.realtime.protocol import (
    CloseCode,
    Refused,
    close_reason,
    parse_auth,
    parse_since,
    read_frame,
)

logger = logging.getLogger(__name__)

LIVE_PATH = "/v1/spotify/live"
AUTH_MODE = "auth"
AUTH_BY_MESSAGE = "message"
CLOSE_TIMEOUT = 2.0
"""How long closing may wait for a client that does not read before giving up on it."""

router = APIRouter(route_class=GuardedRoute)


def get_live(conn: Request | WebSocket) -> Live:
    """The app's live pieces."""
    return live_of(conn)


# Not in the OpenAPI description: a stream (or a WebSocket) it cannot describe; see README.
@router.get(LIVE_PATH, include_in_schema=False)
async def live_events(
    request: Request,
    principal: Principal = Depends(requires(Permission.OVERLAY_READ)),
) -> Response:
    """Server-Sent Events with ``Accept: text/event-stream`` (``Last-Event-ID`` resumes);
    the same path is the WebSocket feed."""
    return await sse.stream(request, get_live(request), principal)


@router.websocket(LIVE_PATH)
async def live_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    live = get_live(websocket)
    address = limit_key(websocket.scope)
    try:
        # Until it authenticates, the socket holds one of its address's few waiting slots.
        with live.caps.unauthenticated(address, "websocket"):
            client, since = await _authenticate(websocket, live)
        slot = live.caps.authenticated(client.credential, client.account_id, address, "websocket")
    except OverCap as over:
        await _close(websocket, CloseCode.TOO_MANY, over.reason)
        return
    except Refused as refused:
        await _close(websocket, refused.code, refused.reason)
        return
    except WebSocketDisconnect:
        return
    await _serve(websocket, live, client, since, slot)


async def _serve(
    websocket: WebSocket, live: Live, client: LiveClient, since: int | None, slot: Slot
) -> None:
    """Feed an authenticated client; ``slot`` (its connection caps) is given back when it
    ends. Held by the lean socket when the server offers one, else served by this task."""
    try:
        stream = live.open_stream(client, "websocket", since)
    except Closed as closed:  # the hub is shutting down
        slot.release()
        await _close(websocket, closed.code, closed.reason)
        return
    hold = hold_offered(websocket.scope)
    if hold is None:
        try:
            await _pump(websocket, stream)
        finally:
            stream.close()
            slot.release()
        return
    # Held from now on: the socket reads the client while the opening is made.
    feed = HeldFeed(stream, slot)
    feed.socket = hold(feed)
    try:
        opening = await stream.opening()
    except Closed as closed:
        feed.closed(closed)
        return
    except Exception:
        logger.exception("live feed: sending failed")
        feed.closed(Closed(CloseCode.INTERNAL_ERROR, "internal error"))
        return
    except BaseException:  # cancelled: the server stops
        feed.closed(Closed(CloseCode.GOING_AWAY, "server shutting down"))
        raise
    for out in opening:
        feed.socket.send_frame(out.frame)
    stream.push_to(feed)


class HeldFeed:
    """A connection held by the lean socket: the hub writes to it (``hub.Writer``), the
    socket tells it what the client does (``lean_ws.Holder``)."""

    __slots__ = ("slot", "socket", "stream")

    def __init__(self, stream: LiveStream, slot: Slot) -> None:
        self.stream = stream
        self.slot = slot
        self.socket: HeldSocket | None = None

    def send(self, out: Outgoing) -> bool:
        return self.socket is None or self.socket.try_send(out.frame)

    def closed(self, closed: Closed) -> None:
        # Given back once the closing handshake ends (``lost``), at most CLOSE_TIMEOUT on.
        if closed.code != CloseCode.NORMAL and self.socket is not None:
            self.socket.send_close(closed.code, close_reason(closed.reason), within=CLOSE_TIMEOUT)
        else:
            self._release()

    def received(self, message: Mapping[str, Any]) -> None:
        refused = _refusal(message)
        if refused is not None:
            self.stream.connection.close(refused.code, refused.reason)

    def writable_again(self) -> None:
        self.stream.connection.resume()

    def lost(self) -> None:
        self.stream.connection.close(CloseCode.NORMAL, "client left")
        self._release()

    def _release(self) -> None:
        self.stream.close()
        self.slot.release()


async def _authenticate(websocket: WebSocket, live: Live) -> tuple[LiveClient, int | None]:
    if not origin_allowed(websocket, live.settings):
        raise Refused(CloseCode.FORBIDDEN, "origin not allowed")
    since = parse_since(websocket.query_params.get("since"), where="since")
    # ?auth=message: the credentials come in the first message even when the handshake
    # carries others (an overlay opened in a browser signed in to the dashboard must be
    # its token, so that revoking the token reaches it).
    by_message = websocket.query_params.get(AUTH_MODE) == AUTH_BY_MESSAGE
    secret = None if by_message else handshake_secret(websocket)
    if secret is None:
        timeout = live.settings.live_auth_timeout_seconds
        try:
            first = await asyncio.wait_for(websocket.receive(), timeout)
        except TimeoutError:
            raise Refused(
                CloseCode.UNAUTHENTICATED, f"no 'auth' message within {timeout:g} s"
            ) from None
        if first["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(first.get("code", 1000))
        auth = parse_auth(read_frame(first))
        secret = auth.token
        since = auth.since if auth.since is not None else since
    client = await authenticate(websocket, live.db, secret)
    websocket.state.principal = client.principal  # named in the session's log line
    return client, since


def _refusal(message: Mapping[str, Any]) -> Refused | None:
    """Why a client frame after the opening closes its connection: any frame does (the
    only client message, ``auth``, came first)."""
    try:
        frame = read_frame(message)
        if frame.get("type") == "auth":
            raise Refused(CloseCode.BAD_MESSAGE, "already authenticated")
        parse_auth(frame)  # raises, naming the unexpected type
    except Refused as refused:
        return refused
    return None


async def _pump(websocket: WebSocket, stream: LiveStream) -> None:
    """Serve the connection from this task (no lean socket): a sender writes the stream,
    this task reads the client until it leaves or its connection is closed."""
    connection = stream.connection
    sender = asyncio.create_task(_send(websocket, stream))
    try:
        await _receive(websocket, connection)
    finally:
        # The sender ends once the connection is closed, sending the close frame.
        if not connection.closed:
            connection.close(CloseCode.NORMAL, "client left")
        await _finish(sender)


async def _receive(websocket: WebSocket, connection: Connection) -> None:
    while connection.closed is None:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        refused = _refusal(message)
        if refused is not None:
            connection.close(refused.code, refused.reason)
            return


async def _send(websocket: WebSocket, stream: LiveStream) -> None:
    connection = stream.connection
    try:
        async for out in stream:
            await websocket.send_text(out.text)
    except Closed as closed:
        if closed.code != CloseCode.NORMAL:
            await _close(websocket, closed.code, closed.reason)
    except (WebSocketDisconnect, RuntimeError, OSError):
        # The client went away mid-send: nothing to close.
        connection.close(CloseCode.NORMAL, "client left")
    except Exception:
        logger.exception("live feed: sending failed")
        connection.close(CloseCode.INTERNAL_ERROR, "internal error")
        await _close(websocket, CloseCode.INTERNAL_ERROR, "internal error")


async def _finish(sender: asyncio.Task[None]) -> None:
    # A sender stuck writing to a client that does not read is given up on.
    done, _ = await asyncio.wait({sender}, timeout=CLOSE_TIMEOUT + 1)
    if not done:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state is WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code, close_reason(reason)), CLOSE_TIMEOUT)


def _declare_socket_rule(routes: list[Any]) -> None:
    # The WebSocket route checks credentials itself; its rule is what it demands.
    for route in routes:
        if getattr(route, "path", None) == LIVE_PATH and not hasattr(route, "methods"):
            declare_rule(route, AccessRule(permission=Permission.OVERLAY_READ))


_declare_socket_rule(router.routes)

"""The public queue page's live feed: ``GET /q/<public id>/live``, Server-Sent Events.

It carries ONE kind of message, ``queue`` (:class:`~tunedeck.queue_page.schemas.PublicQueue`),
the whole page again each time something it shows may have changed: a ``now_playing`` or
a ``request:*`` event on the account's channel. The channel's own messages never reach the
link's holder: they only wake this stream, which reads the page anew and sends that.
The link is checked again with every page, and at every keep-alive: a link turned off or
replaced ends the stream (``event: close``). The account is reported as watched while a
page is open, so its now-playing keeps being polled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from tunedeck.kit.errors import describe
from tunedeck.queue_page import service
from tunedeck.realtime.caps import Slot
from tunedeck.realtime.hub import Closed, Connection, Outgoing
from tunedeck.realtime.live import Live
from tunedeck.realtime.messages import server_time_ms
from tunedeck.realtime.sse import KEEP_ALIVE, RETRY_MS, frame

logger = logging.getLogger(__name__)

WAKES = frozenset({"now_playing", "event", "request"})
"""What wakes the stream on the account's channel (never forwarded as such)."""
GONE = "this queue page's link was turned off or replaced"


class _Page:
    """What one stream knows between pages: the last now_playing and when it was read."""

    def __init__(self, now_playing: dict[str, Any] | None, server_time: int) -> None:
        self.now_playing = now_playing
        self.server_time = server_time

    def take(self, out: Outgoing) -> bool:
        """Note a channel message; whether the page may have changed."""
        if out.type not in WAKES:
            return False
        message = json.loads(out.text)
        if out.type == "now_playing":
            self.now_playing = message.get("now_playing")
            self.server_time = int(message.get("server_time") or server_time_ms())
            return True
        if out.type == "event":
            return str(message.get("event", {}).get("type", "")).startswith("request:")
        return True


async def page_events(
    live: Live, public_id: str, account_id: uuid.UUID, slot: Slot
) -> AsyncIterator[str]:
    """The stream's text, until the link stops, the client leaves or the server stops."""
    yield f"retry: {RETRY_MS}\n\n"
    connection: Connection | None = None
    try:
        connection = live.hub.join(account_id, WAKES)
        if live.watch is not None:
            live.watch.connected(account_id)
        snapshot = await live.snapshots.now_playing(account_id)
        opening = snapshot.now_playing
        current = opening.now_playing.model_dump(mode="json") if opening.now_playing else None
        page = _Page(current, opening.server_time)
        changed = True
        while True:
            text = await _page_text(live, public_id, account_id, page) if changed else None
            if text is None and changed:
                yield _close(4401, GONE)
                return
            if text is not None:
                yield frame(text)
            out = await _next(connection, live.settings.live_keepalive_seconds)
            if out is None:
                if not await _still_on(live, public_id, account_id):
                    yield _close(4401, GONE)
                    return
                yield KEEP_ALIVE
                changed = False
                continue
            changed = page.take(out) | _drain(connection, page)
    except Closed as closed:
        yield _close(closed.code, closed.reason)
    finally:
        if connection is not None:
            live.hub.leave(connection)
            if live.watch is not None:
                live.watch.disconnected(account_id)
        slot.release()


def _drain(connection: Connection, page: _Page) -> bool:
    """Take what else is waiting already: one page for a burst of changes."""
    changed = False
    while (out := connection.next_nowait()) is not None:
        changed = page.take(out) or changed
    return changed


async def _next(connection: Connection, seconds: float) -> Outgoing | None:
    try:
        async with asyncio.timeout(seconds):
            return await connection.next()
    except TimeoutError:
        return None


async def _still_on(live: Live, public_id: str, account_id: uuid.UUID) -> bool:
    try:
        async with live.db.session() as session:
            return await service.account_of(session, public_id) == account_id
    except Exception as exc:  # a database hiccup does not end a page: the next check tells
        logger.warning("queue page: could not check a link: %s", describe(exc))
        return True


async def _page_text(live: Live, public_id: str, account_id: uuid.UUID, page: _Page) -> str | None:
    """The page as JSON, or None when the link no longer opens it."""
    async with live.db.session() as session:
        if await service.account_of(session, public_id) != account_id:
            return None
        shown = await service.public_queue(session, account_id, page.now_playing, page.server_time)
    return shown.model_dump_json()


def _close(code: int, reason: str) -> str:
    return frame(json.dumps({"type": "close", "code": code, "reason": reason}), event="close")

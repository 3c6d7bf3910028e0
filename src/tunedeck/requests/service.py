"""Song requests: the one place every door (REST, GraphQL, the chat door) calls.

Submitting runs in three steps so that a refused viewer costs no Spotify call and two
submissions at once cannot both slip under a cap:

1. parse what was typed and check the rules on cheap facts (closed, banned, caps,
   cooldown) in a short read;
2. look the song up (the matcher: cache, single flight, the streamer's market) with no
   transaction open;
3. take the account's queue lock (``repository.lock_queue``), re-read the counts, run
   every rule again and store the request with its ``request:added`` event, in one unit
   of work.

Every change a moderator makes takes the same lock, changes what it changes and records
one event with its actor in the same unit of work: nothing is half-written. Requests of
another account are never found (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tunedeck.requests.context import RequestsContext
from tunedeck.requests.reasons import Refusal
from tunedeck.requests.schemas import (
    BanIn,
    BanOut,
    ClearedOut,
    HistoryIn,
    HistoryPage,
    QueueOut,
    RequestOut,
    SettingsDocument,
    SettingsOut,
    Source,
    ViewerPlace,
)
from tunedeck.requests.viewers import Viewer


@dataclass(frozen=True, slots=True)
class Submitted:
    """A request taken: queued, or pending a moderator's approval."""

    request: RequestOut


async def submit(
    ctx: RequestsContext, viewer: Viewer, text: str, source: Source
) -> Submitted | Refusal:
    """Take ``viewer``'s request for ``text`` (a link, a URI or search text), or say why
    not. Needs ``requests:submit`` (a chat token's ``!sr`` is granted it by the chat door)."""
    raise NotImplementedError


async def withdraw_last(ctx: RequestsContext, viewer: Viewer) -> RequestOut | None:
    """``!wrongsong``: the viewer's latest waiting request, removed (reason ``withdrawn``);
    None when they have none waiting."""
    raise NotImplementedError


async def approve(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """A pending request becomes queued (``request:approved``)."""
    raise NotImplementedError


async def reject(ctx: RequestsContext, request_id: uuid.UUID, reason: str | None) -> RequestOut:
    """A waiting request is turned down, with the moderator's reason (``request:rejected``)."""
    raise NotImplementedError


async def remove(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """A waiting request leaves the queue (``request:removed``)."""
    raise NotImplementedError


async def move(ctx: RequestsContext, request_id: uuid.UUID, position: int) -> RequestOut:
    """A waiting request goes to ``position`` (1-based among those waiting; past the end:
    last) (``request:moved``)."""
    raise NotImplementedError


async def promote(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """A waiting request goes first: it plays next (``request:moved``)."""
    raise NotImplementedError


async def skip(ctx: RequestsContext) -> RequestOut | None:
    """Skip the request playing now (Spotify's next; the feeder then sees it end and marks
    it skipped). None when no request is playing (nothing is skipped)."""
    raise NotImplementedError


async def ban(ctx: RequestsContext, request: BanIn) -> BanOut:
    """Ban a viewer, removing their waiting requests when asked (``request:banned``)."""
    raise NotImplementedError


async def unban(ctx: RequestsContext, platform: str, viewer_id: str) -> bool:
    """Lift a ban (``request:unbanned``); False when the viewer was not banned."""
    raise NotImplementedError


async def list_bans(ctx: RequestsContext) -> list[BanOut]:
    """The channel's banned viewers, newest first."""
    raise NotImplementedError


async def open_requests(ctx: RequestsContext) -> SettingsOut:
    """Open requests (``request:settings``)."""
    raise NotImplementedError


async def close_requests(ctx: RequestsContext, message: str | None) -> SettingsOut:
    """Close requests; viewers read ``message`` (``request:settings``)."""
    raise NotImplementedError


async def get_settings(ctx: RequestsContext) -> SettingsOut:
    """The channel's settings (the defaults until changed)."""
    raise NotImplementedError


async def update_settings(ctx: RequestsContext, document: SettingsDocument) -> SettingsOut:
    """Replace the settings with ``document`` (validated; a 422 names the first field at
    fault) (``request:settings``)."""
    raise NotImplementedError


async def clear(ctx: RequestsContext) -> ClearedOut:
    """Remove every waiting request (reason ``cleared``; ``request:cleared``)."""
    raise NotImplementedError


async def queue(ctx: RequestsContext) -> QueueOut:
    """The queue: playing, sent, then waiting in order, with positions and ETAs."""
    raise NotImplementedError


async def history(ctx: RequestsContext, page: HistoryIn) -> HistoryPage:
    """Requests newest first, optionally in given states, a page at a time."""
    raise NotImplementedError


async def get_request(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """One request of the caller's account (404 otherwise)."""
    raise NotImplementedError


async def place_of(ctx: RequestsContext, viewer: Viewer) -> ViewerPlace:
    """``!pos`` / ``!when``: the viewer's request that plays soonest, its position and ETA."""
    raise NotImplementedError

"""Reading the queue (``requests:read``): the queue with positions and estimates, the
history a page at a time, one request, where a viewer's next request stands."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.events.service import decode_cursor, encode_cursor
from tunedeck.kit.errors import NotFound
from tunedeck.requests import repository
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.identity import viewer_key
from tunedeck.requests.models import SongRequest
from tunedeck.requests.present import find, queue_out, remaining_ms, request_out
from tunedeck.requests.schemas import HistoryIn, HistoryPage, QueueOut, RequestOut, ViewerPlace
from tunedeck.requests.viewers import Viewer

READ = Permission.REQUESTS_READ


class RequestNotFound(NotFound):
    """No such request on the caller's account (another account's is not found either)."""

    code = "request_not_found"


def not_found(request_id: uuid.UUID) -> RequestNotFound:
    return RequestNotFound(f"no request {request_id} on this account")


def remaining(ctx: RequestsContext) -> int | None:
    """What is left of the item playing for the caller's account (no Spotify call)."""
    store = ctx.cache.now_playing
    return remaining_ms(store.fresh(ctx.account_id), store.clock())


async def shown_queue(ctx: RequestsContext, session: AsyncSession) -> list[RequestOut]:
    """The queue as shown (playing, sent, waiting), with positions and estimates."""
    rows = await repository.in_queue(session, ctx.account_id)
    return queue_out(rows, remaining(ctx))


async def shown(ctx: RequestsContext, session: AsyncSession, row: SongRequest) -> RequestOut:
    """One request as shown: with its position and estimate when it is in the queue."""
    found = find(await shown_queue(ctx, session), row.id)
    return found if found is not None else request_out(row)


async def queue(ctx: RequestsContext) -> QueueOut:
    """The queue: playing, sent, then waiting in order, with positions and ETAs."""
    account_id = authorize(ctx, READ)
    async with ctx.begin() as work:
        settings = (await repository.read_settings(work.session, account_id)).settings
        items = await shown_queue(ctx, work.session)
    return QueueOut(open=settings.open, closed_message=settings.closed_message, items=items)


async def get_request(ctx: RequestsContext, request_id: uuid.UUID) -> RequestOut:
    """One request of the caller's account (404 otherwise)."""
    account_id = authorize(ctx, READ)
    async with ctx.begin() as work:
        row = await repository.get(work.session, account_id, request_id)
        if row is None:
            raise not_found(request_id)
        return await shown(ctx, work.session, row)


async def history(ctx: RequestsContext, page: HistoryIn) -> HistoryPage:
    """Requests newest first, optionally in given states, a page at a time."""
    account_id = authorize(ctx, READ)
    # The same opaque cursors as the event list's (a stated form, the same errors).
    before = decode_cursor(page.cursor) if page.cursor else None
    states = [state.value for state in page.state] if page.state else None
    async with ctx.begin() as work:
        rows = await repository.history(
            work.session, account_id, states=states, before=before, limit=page.limit + 1
        )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return HistoryPage(
        items=[request_out(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None,
    )


async def place_of(ctx: RequestsContext, viewer: Viewer) -> ViewerPlace:
    """``!pos`` / ``!when``: the viewer's request that plays soonest, its position and ETA."""
    authorize(ctx, READ)
    key = viewer_key(viewer)
    async with ctx.begin() as work:
        items = await shown_queue(ctx, work.session)
    mine = [
        item
        for item in items
        if item.viewer.platform == key.platform
        and item.viewer.id == key.id
        and item.position is not None
    ]
    return ViewerPlace(request=mine[0] if mine else None, waiting=len(mine))

"""Doors of the public queue page: transport only.

- ``GET/POST/DELETE /v1/queue-page``: whether the page is on and its link; turn it on
  (a new link each time); turn it off. ``requests:read`` to see, ``requests:moderate``
  to change.
- ``GET /q/<public id>``: the page (HTML; works as an OBS browser source, add
  ``?transparent=1``); ``GET /q/<public id>/live``: its feed (``feed``). Nothing else
  answers to the link. An unknown link is a 404, and counts as a failed sign-in of the
  address (``accounts.throttle``), so links cannot be guessed at speed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from tunedeck.accounts.auth import GuardedRoute, call_context, public
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission
from tunedeck.accounts.throttle import authentication_attempt
from tunedeck.kit.addresses import limit_key
from tunedeck.kit.deps import SettingsDep
from tunedeck.kit.error_docs import AUTH_ERRORS
from tunedeck.kit.errors import NotFound, Unauthorized
from tunedeck.queue_page import service
from tunedeck.queue_page.feed import page_events
from tunedeck.queue_page.schemas import QueuePageOut
from tunedeck.realtime.caps import OverCap, TooManyConnections
from tunedeck.realtime.live import live_of
from tunedeck.realtime.sse import MEDIA_TYPE, HeldStream
from tunedeck.web.assets import STATIC, WEB_DIR
from tunedeck.web.headers import content_security_policy, page_headers

# Covers come from Spotify's image hosts (and the simulator's origin); nothing else leaves.
PAGE_HEADERS = page_headers(content_security_policy(img_src="'self' https: http: data:"))
PAGE = STATIC.render((WEB_DIR / "queue_page" / "queue.html").read_text(encoding="utf-8"))

router = APIRouter(prefix="/v1/queue-page", tags=["requests"], route_class=GuardedRoute)
public_router = APIRouter(include_in_schema=False, route_class=GuardedRoute)

Read = Annotated[CallContext, call_context(Permission.REQUESTS_READ)]
Moderate = Annotated[CallContext, call_context(Permission.REQUESTS_MODERATE)]
PublicId = Annotated[str, Path(max_length=64, description="The page's link id.")]


class QueuePageNotFound(NotFound):
    code = "queue_page_not_found"


@router.get("", responses=AUTH_ERRORS)
async def get_queue_page(ctx: Read, settings: SettingsDep) -> QueuePageOut:
    """Whether the public queue page is on, and its link."""
    return await service.get_page(ctx, settings.public_url)


@router.post("", responses=AUTH_ERRORS)
async def turn_on_queue_page(ctx: Moderate, settings: SettingsDep) -> QueuePageOut:
    """Turn the public queue page on with a new link (an older link stops at once)."""
    return await service.turn_on(ctx, settings.public_url)


@router.delete("", responses=AUTH_ERRORS)
async def turn_off_queue_page(ctx: Moderate, settings: SettingsDep) -> QueuePageOut:
    """Turn the public queue page off: its link stops at once."""
    return await service.turn_off(ctx, settings.public_url)


async def _account(request: Request, public_id: str) -> uuid.UUID:
    """The account the link opens; 404 (a failed sign-in of the address) otherwise."""
    live = live_of(request)
    try:
        async with authentication_attempt(request):
            async with live.db.session() as session:
                account_id = await service.account_of(session, public_id)
            if account_id is None:
                raise Unauthorized("unknown queue page")
    except Unauthorized:
        raise QueuePageNotFound("This queue page is not available.") from None
    return account_id


@public_router.get(service.PAGE_PATH + "/{public_id}", dependencies=[Depends(public)])
async def queue_page(request: Request, public_id: PublicId) -> Response:
    """The public queue page."""
    await _account(request, public_id)
    return Response(PAGE, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@public_router.get(service.PAGE_PATH + "/{public_id}/live", dependencies=[Depends(public)])
async def queue_page_feed(request: Request, public_id: PublicId) -> Response:
    """The page's feed (Server-Sent Events of ``queue`` messages, module doc of ``feed``)."""
    account_id = await _account(request, public_id)
    live = live_of(request)
    try:
        slot = live.caps.unauthenticated(limit_key(request.scope), "sse")
    except OverCap as over:
        raise TooManyConnections(over) from None
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return HeldStream(
        page_events(live, public_id, account_id, slot), slot, media_type=MEDIA_TYPE, headers=headers
    )

"""REST door of the events: ``GET /v1/spotify/events``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tunedeck.accounts.auth import requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.events import service
from tunedeck.events.schemas import EventPage
from tunedeck.kit.db import SessionDep
from tunedeck.kit.openapi import AUTH_ERRORS, error_doc

router = APIRouter(prefix="/v1/spotify", tags=["events"])

Reader = Annotated[Principal, Depends(requires(Permission.SPOTIFY_READ))]


EVENTS_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    400: error_doc("The cursor is not one this listing gave."),
    422: error_doc("Unknown event type, since after until, or limit out of range."),
}


@router.get("/events", responses=EVENTS_ERRORS)
async def list_events(
    principal: Reader,
    session: SessionDep,
    event_type: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="Only these types (repeat the parameter, or comma-separate).",
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (exclusive).")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = service.DEFAULT_LIMIT,
) -> EventPage:
    """The account's playback events, newest first."""
    return await service.list_events(
        session,
        principal.account_id,
        types=event_type,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )

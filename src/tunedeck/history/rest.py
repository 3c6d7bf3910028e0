"""REST doors of the play history: ``/v1/history``, ``/v1/streams``, ``/v1/stats``.
Transport only: each route names its permission and hands its input to the service."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from starlette.requests import HTTPConnection

from tunedeck.accounts.auth import GuardedRoute, requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.history import service
from tunedeck.history.schemas import (
    ExportFormat,
    ExportIn,
    HistoryQueryIn,
    PlayPage,
    SavedPlaylistOut,
    SavePlaylistIn,
    StartStreamIn,
    StatsOut,
    StatsQueryIn,
    StreamOut,
    StreamsOut,
)
from tunedeck.kit.error_docs import AUTH_ERRORS, error_doc
from tunedeck.player.context import PlayerContext
from tunedeck.player.deps import player_context
from tunedeck.player.limits import admit

ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: error_doc("No such stream on this account (stream_not_found)."),
    409: error_doc("A stream is live already (stream_live)."),
    422: error_doc(
        "Invalid input: a reversed or unbounded period, a malformed cursor, chapters the "
        "stream cannot make."
    ),
}

router = APIRouter(prefix="/v1", tags=["history"], route_class=GuardedRoute)


EXPORT_MEDIA_TYPES = sorted({media.split(";")[0] for media in service.MEDIA_TYPES.values()})


def caller(permission: Permission) -> Any:
    """Dependency: the operation's context, for a principal holding ``permission``,
    within its rate limits."""

    async def dependency(
        conn: HTTPConnection, principal: Principal = Depends(requires(permission))
    ) -> PlayerContext:
        await admit(conn, principal, permission)
        return player_context(conn, principal)

    return Depends(dependency)


Read = Annotated[PlayerContext, caller(Permission.SPOTIFY_READ)]
Manage = Annotated[PlayerContext, caller(Permission.STREAMS_MANAGE)]
Playlist = Annotated[PlayerContext, caller(Permission.SPOTIFY_PLAYLIST)]


@router.get("/history", responses=ERRORS)
async def get_history(ctx: Read, query: Annotated[HistoryQueryIn, Query()]) -> PlayPage:
    """Plays, newest first: a stream's (``stream``) or a period's (``since``, ``until``),
    optionally searched; ``cursor``: the previous page's ``next_cursor``."""
    return await service.history(ctx, query)


@router.get("/streams", responses=ERRORS)
async def get_streams(ctx: Read) -> StreamsOut:
    """The account's streams, newest first, with their play counts."""
    return await service.streams(ctx)


@router.post("/streams", responses=ERRORS, status_code=201)
async def post_stream(ctx: Manage, body: StartStreamIn | None = None) -> StreamOut:
    """Start a stream (``streams:manage``): plays from now on carry their offset."""
    return await service.start_stream(ctx, body or StartStreamIn())


@router.post("/streams/{stream_id}/stop", responses=ERRORS)
async def stop_stream(ctx: Manage, stream_id: uuid.UUID) -> StreamOut:
    """Stop a stream (``streams:manage``)."""
    return await service.stop_stream(ctx, stream_id)


@router.get(
    "/streams/{stream_id}/export",
    responses={
        **ERRORS,
        200: {
            "description": "The file, of the format asked for.",
            "content": {media: {} for media in EXPORT_MEDIA_TYPES},
        },
    },
    response_class=Response,
)
async def export_stream(
    ctx: Read,
    stream_id: uuid.UUID,
    format: ExportFormat = "json",
    offset_seconds: Annotated[int, Query(ge=0, le=86_400)] = 0,
    prefix: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The stream as YouTube chapters, CSV, JSON, Markdown or M3U (a file to download)."""
    request = ExportIn(format=format, offset_seconds=offset_seconds, prefix=prefix)
    out = await service.export(ctx, stream_id, request)
    return Response(
        content=out.content.encode(),
        media_type=out.media_type,
        headers={"Content-Disposition": f'attachment; filename="{out.filename}"'},
    )


@router.post("/streams/{stream_id}/playlist", responses=ERRORS, status_code=201)
async def save_playlist(
    ctx: Playlist, stream_id: uuid.UUID, body: SavePlaylistIn | None = None
) -> SavedPlaylistOut:
    """Save the stream's tracks as a new Spotify playlist (``spotify:playlist``)."""
    return await service.save_playlist(ctx, stream_id, body or SavePlaylistIn())


@router.get("/stats", responses=ERRORS)
async def get_stats(ctx: Read, query: Annotated[StatsQueryIn, Query()]) -> StatsOut:
    """Top tracks, artists and requesters, plays and minutes, skip rates, requests: of a
    stream (``stream``) or of a period (``from`` and ``to``)."""
    return await service.stats_of(ctx, query)

# Strawberry's field decorators called with options are typed as returning Any.
# mypy: disable-error-code="untyped-decorator"
"""The play history in GraphQL: the same operations as REST (``history.service``), under
the same permissions; merged into ``/graphql``'s Query and Mutation by the app."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.experimental.pydantic import type as from_model

from tunedeck.accounts.permissions import Permission
from tunedeck.history import service
from tunedeck.history.schemas import (
    CountOut,
    ExportIn,
    ExportOut,
    HistoryQueryIn,
    PlayOut,
    PlayPage,
    RuleCountOut,
    SavedPlaylistOut,
    SavePlaylistIn,
    SkipRateOut,
    StartStreamIn,
    StatsOut,
    StatsQueryIn,
    StreamOut,
)
from tunedeck.player.graphql.arguments import build
from tunedeck.player.graphql.schema import PLAYLIST, READ, Ctx, _guard
from tunedeck.player.graphql.types import mirror

MANAGE = _guard(Permission.STREAMS_MANAGE)


@from_model(model=PlayOut, all_fields=True, name="Play")
class Play:
    end_reason: str | None


@from_model(model=PlayPage, all_fields=True, name="PlayPage")
class PlayPageType:
    pass


@from_model(model=StreamOut, all_fields=True, name="Stream")
class StreamType:
    pass


@from_model(model=CountOut, all_fields=True, name="StatsCount")
class StatsCount:
    pass


@from_model(model=SkipRateOut, all_fields=True, name="SkipRate")
class SkipRate:
    pass


@from_model(model=RuleCountOut, all_fields=True, name="RuleCount")
class RuleCount:
    pass


@from_model(model=StatsOut, all_fields=True, name="Stats")
class StatsType:
    pass


@from_model(model=ExportOut, all_fields=True, name="StreamExport")
class StreamExport:
    format: str


@from_model(model=SavedPlaylistOut, all_fields=True, name="SavedPlaylist")
class SavedPlaylist:
    pass


@strawberry.type
class HistoryQuery:
    @strawberry.field(permission_classes=READ)
    async def history(
        self,
        info: Ctx,
        stream: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        search: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> PlayPageType:
        """Plays, newest first: a stream's or a period's; ``after``: ``nextCursor``."""
        query = build(
            HistoryQueryIn,
            renamed={"cursor": "after"},
            stream=stream,
            since=since,
            until=until,
            search=search,
            cursor=after,
            limit=limit,
        )
        return mirror(PlayPageType, await service.history(info.context.player, query))

    @strawberry.field(permission_classes=READ)
    async def streams(self, info: Ctx) -> list[StreamType]:
        found = await service.streams(info.context.player)
        return [mirror(StreamType, item) for item in found.items]

    @strawberry.field(permission_classes=READ)
    async def stream_export(
        self,
        info: Ctx,
        id: uuid.UUID,
        format: str,
        offset_seconds: int = 0,
        prefix: str | None = None,
    ) -> StreamExport:
        """A stream as youtube, csv, json, markdown or m3u text."""
        request = build(ExportIn, format=format, offset_seconds=offset_seconds, prefix=prefix)
        return mirror(StreamExport, await service.export(info.context.player, id, request))

    @strawberry.field(permission_classes=READ)
    async def stats(
        self,
        info: Ctx,
        stream: uuid.UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        top: int = 10,
    ) -> StatsType:
        """A stream's stats, or a period's (``since`` and ``until`` both)."""
        query = build(StatsQueryIn, stream=stream, since=since, until=until, top=top)
        return mirror(StatsType, await service.stats_of(info.context.player, query))


@strawberry.type
class HistoryMutation:
    @strawberry.mutation(permission_classes=MANAGE)
    async def start_stream(self, info: Ctx, title: str | None = None) -> StreamType:
        request = build(StartStreamIn, title=title)
        return mirror(StreamType, await service.start_stream(info.context.player, request))

    @strawberry.mutation(permission_classes=MANAGE)
    async def stop_stream(self, info: Ctx, id: uuid.UUID) -> StreamType:
        return mirror(StreamType, await service.stop_stream(info.context.player, id))

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def save_stream_playlist(
        self, info: Ctx, id: uuid.UUID, name: str | None = None, public: bool = False
    ) -> SavedPlaylist:
        """Save the stream's tracks as a new Spotify playlist."""
        request = build(SavePlaylistIn, name=name, public=public)
        return mirror(SavedPlaylist, await service.save_playlist(info.context.player, id, request))

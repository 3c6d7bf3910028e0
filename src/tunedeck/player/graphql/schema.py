# Strawberry's field decorators called with options are typed as returning Any.
# mypy: disable-error-code="untyped-decorator"
"""``/graphql``: the player's queries and mutations (SPEC section 4), transport only.

Every field names its permission (``needs``) and calls one service operation, which
validates, calls Spotify, maps errors and records events, exactly as for REST.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from fastapi import FastAPI
from starlette.requests import Request
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.permission import BasePermission
from strawberry.types import ExecutionResult, Info

from tunedeck.accounts.permissions import Permission
from tunedeck.config import Settings
from tunedeck.player import service
from tunedeck.player.graphql.context import GraphQLContext, graphql_context
from tunedeck.player.graphql.errors import TuneDeckSchema, format_error
from tunedeck.player.graphql.permissions import needs
from tunedeck.player.graphql.types import (
    SpotifyActionResult,
    SpotifyEventPage,
    SpotifyManualStatus,
    SpotifyPlaybackInput,
    SpotifyPlaylist,
    SpotifyPlaylistTracks,
    SpotifyState,
    SpotifyTrack,
    mirror,
)

GRAPHQL_PATH = "/graphql"
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000

Ctx = Info[GraphQLContext, None]


def _guard(permission: Permission) -> list[type[BasePermission]]:
    return [needs(permission)]


READ = _guard(Permission.SPOTIFY_READ)
PLAYBACK = _guard(Permission.SPOTIFY_PLAYBACK)
QUEUE = _guard(Permission.SPOTIFY_QUEUE)
DEVICE = _guard(Permission.SPOTIFY_DEVICE)
PLAYLIST = _guard(Permission.SPOTIFY_PLAYLIST)
WORKER = _guard(Permission.SPOTIFY_WORKER)


@strawberry.type
class Query:
    @strawberry.field(permission_classes=READ)
    async def spotify_state(self, info: Ctx) -> SpotifyState:
        """Now playing, queue, devices and playlists, fetched in parallel."""
        return mirror(SpotifyState, await info.context.run(service.state))

    @strawberry.field(permission_classes=READ)
    async def spotify_search(
        self, info: Ctx, query: str, limit: int = service.DEFAULT_SEARCH_LIMIT
    ) -> list[SpotifyTrack]:
        found = await info.context.run(lambda ctx: service.search(ctx, query, limit))
        return [mirror(SpotifyTrack, track) for track in found]

    @strawberry.field(permission_classes=READ)
    async def spotify_manual_status(self, info: Ctx) -> SpotifyManualStatus:
        return mirror(SpotifyManualStatus, await info.context.run(service.manual_status))

    @strawberry.field(permission_classes=READ)
    async def spotify_playlist_tracks(
        self, info: Ctx, playlist_id: str, limit: int = 100, offset: int = 0
    ) -> SpotifyPlaylistTracks:
        page = await info.context.run(
            lambda ctx: service.playlist_tracks(ctx, playlist_id, limit=limit, offset=offset)
        )
        return mirror(SpotifyPlaylistTracks, page)

    @strawberry.field(permission_classes=READ)
    async def spotify_events(
        self,
        info: Ctx,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: str | None = None,
        limit: int = service.DEFAULT_EVENTS_LIMIT,
    ) -> SpotifyEventPage:
        """The account's playback events, newest first; ``after``: the previous
        page's ``nextCursor``."""
        page = await info.context.run(
            lambda ctx: service.list_events(
                ctx, types=types, since=since, until=until, cursor=after, limit=limit
            )
        )
        return SpotifyEventPage.of(page)


def _action(result: Any) -> SpotifyActionResult:
    return SpotifyActionResult.of(result)


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=PLAYBACK)
    async def spotify_playback(self, info: Ctx, input: SpotifyPlaybackInput) -> SpotifyActionResult:
        command = service.PlaybackCommand(
            action=input.action.value,
            uri=input.uri,
            context_uri=input.context_uri,
            position_ms=input.position_ms,
            volume_percent=input.volume_percent,
            state=input.state,
            mode=input.mode,
            device_id=input.device_id,
        )
        return _action(await info.context.run(lambda ctx: service.control(ctx, command)))

    @strawberry.mutation(permission_classes=QUEUE)
    async def spotify_queue(self, info: Ctx, uri: str) -> SpotifyActionResult:
        return _action(await info.context.run(lambda ctx: service.add_to_queue(ctx, uri)))

    @strawberry.mutation(permission_classes=DEVICE)
    async def spotify_transfer_playback(
        self, info: Ctx, device_id: str, play: bool = False
    ) -> SpotifyActionResult:
        return _action(
            await info.context.run(lambda ctx: service.transfer(ctx, device_id, play=play))
        )

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_play_playlist(
        self,
        info: Ctx,
        uri: str,
        name: str | None = None,
        cover_url: str | None = None,
        track_count: int | None = None,
        playlist_url: str | None = None,
    ) -> SpotifyActionResult:
        result = await info.context.run(
            lambda ctx: service.play_playlist(
                ctx,
                uri,
                name=name,
                cover_url=cover_url,
                track_count=track_count,
                playlist_url=playlist_url,
            )
        )
        return _action(result)

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_create_playlist(
        self, info: Ctx, name: str, public: bool | None = None
    ) -> SpotifyPlaylist:
        created = await info.context.run(
            lambda ctx: service.create_playlist(ctx, name, public=public)
        )
        return mirror(SpotifyPlaylist, created)

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_rename_playlist(self, info: Ctx, id: str, name: str) -> bool:
        await info.context.run(lambda ctx: service.rename_playlist(ctx, id, name))
        return True

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_delete_playlist(self, info: Ctx, id: str) -> bool:
        """Delete (for Spotify: unfollow) a playlist."""
        await info.context.run(lambda ctx: service.delete_playlist(ctx, id))
        return True

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_add_to_playlist(
        self, info: Ctx, playlist_id: str, track_uris: list[str]
    ) -> bool:
        await info.context.run(lambda ctx: service.add_tracks(ctx, playlist_id, track_uris))
        return True

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_remove_from_playlist(
        self, info: Ctx, playlist_id: str, track_uri: str
    ) -> bool:
        await info.context.run(lambda ctx: service.remove_track(ctx, playlist_id, track_uri))
        return True

    @strawberry.mutation(permission_classes=WORKER)
    async def start_spotify_manual(self, info: Ctx) -> SpotifyManualStatus:
        """Poll this account's Spotify for the next 30 minutes."""
        return mirror(SpotifyManualStatus, await info.context.run(service.start_manual))

    @strawberry.mutation(permission_classes=WORKER)
    async def stop_spotify_manual(self, info: Ctx) -> bool:
        """Stop manual polling; false when it was not on."""
        return await info.context.run(service.stop_manual)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with its limits; introspection only when the settings allow it."""
    # Factories, so each request gets fresh extension instances.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    return TuneDeckSchema(query=Query, mutation=Mutation, extensions=extensions)


class TuneDeckGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's FastAPI router answering errors in the TuneDeck vocabulary."""

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            answer["errors"] = [format_error(error) for error in result.errors]
        if result.extensions:
            answer["extensions"] = result.extensions
        return answer


def install_graphql(app: FastAPI, settings: Settings) -> None:
    """Serve ``/graphql`` (POST; GraphiQL on GET when introspection is on). Batches of
    operations are refused (Strawberry's default); subscriptions are not offered."""
    router = TuneDeckGraphQLRouter(
        build_schema(settings),
        context_getter=graphql_context,
        graphql_ide="graphiql" if settings.graphql_introspection else None,
        allow_queries_via_get=False,
        subscription_protocols=(),
    )
    # The GraphQL schema describes itself; /openapi.json stays the REST contract.
    app.include_router(router, prefix=GRAPHQL_PATH, include_in_schema=False)

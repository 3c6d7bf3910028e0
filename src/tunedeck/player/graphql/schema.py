# Strawberry's field decorators called with options are typed as returning Any.
# mypy: disable-error-code="untyped-decorator"
"""``/graphql``: the player's queries and mutations (SPEC section 4), transport only.

Every field names its permission (``needs``), builds its operation's input model from
its arguments (``arguments.build``) and calls the operation, which calls Spotify, maps
errors and records events, exactly as for REST.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import strawberry
from cross_web import HTTPException as CrossWebHTTPException
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult, Info
from strawberry.types.unset import UNSET

from tunedeck.accounts.auth import GuardedRoute
from tunedeck.accounts.permissions import Permission
from tunedeck.config import Settings
from tunedeck.kit import json_body
from tunedeck.kit.errors import (
    BadRequest,
    InvalidJson,
    UnsupportedMediaType,
)
from tunedeck.kit.hosts import origin_allowed
from tunedeck.player import inputs, manual_connect, playback, playlists, reads
from tunedeck.player.graphql.arguments import build, from_input
from tunedeck.player.graphql.context import GraphQLContext, graphql_context
from tunedeck.player.graphql.document_cache import CachedDocuments, KnownDocuments
from tunedeck.player.graphql.document_limits import DocumentLimits
from tunedeck.player.graphql.errors import INVALID_QUERY, TuneDeckSchema, format_error
from tunedeck.player.graphql.limits import RefusedStatus, within_limits
from tunedeck.player.graphql.permissions import needs
from tunedeck.player.graphql.scalars import SCALAR_MAP
from tunedeck.player.graphql.types import (
    SpotifyActionResult,
    SpotifyDevice,
    SpotifyEventPage,
    SpotifyManualStatus,
    SpotifyPlaybackInput,
    SpotifyPlaylist,
    SpotifyPlaylistChange,
    SpotifyPlaylistTracks,
    SpotifyQueue,
    SpotifyState,
    SpotifyTrack,
    mirror,
)
from tunedeck.player.graphql.websocket import QuietWebSocketAdapter

GRAPHQL_PATH = "/graphql"
MAX_ALIASES = 15
MAX_TOKENS = 2000

Ctx = Info[GraphQLContext, None]


def _guard(permission: Permission) -> list[type[BasePermission]]:
    # The permission first: a caller without it spends no token of its rate limits.
    return [needs(permission), within_limits(permission)]


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
        return mirror(SpotifyState, await reads.state(info.context.player))

    @strawberry.field(permission_classes=READ)
    async def spotify_queue(self, info: Ctx) -> SpotifyQueue:
        """What plays now and next."""
        return mirror(SpotifyQueue, await reads.queue(info.context.player))

    @strawberry.field(permission_classes=READ)
    async def spotify_devices(self, info: Ctx) -> list[SpotifyDevice]:
        """The user's available Spotify Connect devices."""
        found = await reads.devices(info.context.player)
        return [mirror(SpotifyDevice, device) for device in found]

    @strawberry.field(permission_classes=READ)
    async def spotify_playlists(
        self,
        info: Ctx,
        limit: int = inputs.MAX_PLAYLISTS_PAGE,
        offset: int = 0,
    ) -> list[SpotifyPlaylist]:
        """A page of the playlists the user owns or follows."""
        page = build(inputs.PlaylistsPageIn, limit=limit, offset=offset)
        found = await reads.playlists(info.context.player, page)
        return [mirror(SpotifyPlaylist, playlist) for playlist in found]

    @strawberry.field(permission_classes=READ)
    async def spotify_search(
        self, info: Ctx, query: str, limit: int = inputs.DEFAULT_SEARCH_LIMIT
    ) -> list[SpotifyTrack]:
        request = build(inputs.SearchIn, query=query, limit=limit)
        found = await reads.search(info.context.player, request)
        return [mirror(SpotifyTrack, track) for track in found]

    @strawberry.field(permission_classes=READ)
    async def spotify_manual_status(self, info: Ctx) -> SpotifyManualStatus:
        status = await manual_connect.manual_status(info.context.player)
        return mirror(SpotifyManualStatus, status)

    @strawberry.field(permission_classes=READ)
    async def spotify_playlist_tracks(
        self,
        info: Ctx,
        playlist_id: str,
        limit: int = inputs.MAX_PLAYLIST_TRACKS_PAGE,
        offset: int = 0,
    ) -> SpotifyPlaylistTracks:
        target = build(inputs.PlaylistTarget, playlist_id=playlist_id)
        page = build(inputs.PlaylistTracksPageIn, limit=limit, offset=offset)
        found = await reads.playlist_tracks(info.context.player, target, page)
        return mirror(SpotifyPlaylistTracks, found)

    @strawberry.field(permission_classes=READ)
    async def spotify_events(
        self,
        info: Ctx,
        types: list[str] | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: str | None = None,
        limit: int = inputs.DEFAULT_EVENTS_LIMIT,
    ) -> SpotifyEventPage:
        """The account's playback events, newest first; ``actor``: only what that API
        key (its id) did; ``after``: the previous page's ``nextCursor``."""
        request = build(
            inputs.EventsQueryIn,
            renamed={"cursor": "after"},
            types=types,
            actor=actor,
            since=since,
            until=until,
            cursor=after,
            limit=limit,
        )
        return SpotifyEventPage.of(await reads.list_events(info.context.player, request))


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=PLAYBACK)
    async def spotify_playback(self, info: Ctx, input: SpotifyPlaybackInput) -> SpotifyActionResult:
        command = from_input(inputs.PlaybackIn, input)
        return SpotifyActionResult.of(await playback.control(info.context.player, command))

    @strawberry.mutation(permission_classes=QUEUE)
    async def spotify_queue(self, info: Ctx, uri: str) -> SpotifyActionResult:
        request = build(inputs.QueueIn, uri=uri)
        return SpotifyActionResult.of(await playback.add_to_queue(info.context.player, request))

    @strawberry.mutation(permission_classes=DEVICE)
    async def spotify_transfer_playback(
        self, info: Ctx, device_id: str, play: bool = False
    ) -> SpotifyActionResult:
        request = build(inputs.TransferIn, device_id=device_id, play=play)
        return SpotifyActionResult.of(await playback.transfer(info.context.player, request))

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
        request = build(
            inputs.PlayPlaylistIn,
            uri=uri,
            name=name,
            cover_url=cover_url,
            track_count=track_count,
            playlist_url=playlist_url,
        )
        return SpotifyActionResult.of(await playlists.play_playlist(info.context.player, request))

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_create_playlist(
        self,
        info: Ctx,
        name: str,
        public: bool | None = None,
        description: str | None = None,
    ) -> SpotifyPlaylist:
        request = build(inputs.CreatePlaylistIn, name=name, public=public, description=description)
        created = await playlists.create_playlist(info.context.player, request)
        return mirror(SpotifyPlaylist, created)

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_rename_playlist(
        self, info: Ctx, id: str, name: str | None = None, description: str | None = None
    ) -> bool:
        """Change a playlist's name and/or description."""
        target = build(inputs.PlaylistTarget, renamed={"playlist_id": "id"}, playlist_id=id)
        request = build(inputs.RenamePlaylistIn, name=name, description=description)
        await playlists.rename_playlist(info.context.player, target, request)
        return True

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_delete_playlist(self, info: Ctx, id: str) -> bool:
        """Delete (for Spotify: unfollow) a playlist."""
        target = build(inputs.PlaylistTarget, renamed={"playlist_id": "id"}, playlist_id=id)
        await playlists.delete_playlist(info.context.player, target)
        return True

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_add_to_playlist(
        self, info: Ctx, playlist_id: str, track_uris: list[str]
    ) -> SpotifyPlaylistChange:
        target = build(inputs.PlaylistTarget, playlist_id=playlist_id)
        request = build(inputs.AddTracksIn, renamed={"uris": "trackUris"}, uris=track_uris)
        return SpotifyPlaylistChange.of(
            await playlists.add_tracks(info.context.player, target, request)
        )

    @strawberry.mutation(permission_classes=PLAYLIST)
    async def spotify_remove_from_playlist(
        self, info: Ctx, playlist_id: str, track_uri: str
    ) -> SpotifyPlaylistChange:
        target = build(inputs.PlaylistTarget, playlist_id=playlist_id)
        request = build(inputs.RemoveTrackIn, renamed={"uri": "trackUri"}, uri=track_uri)
        return SpotifyPlaylistChange.of(
            await playlists.remove_track(info.context.player, target, request)
        )

    @strawberry.mutation(permission_classes=WORKER)
    async def start_spotify_manual(self, info: Ctx) -> SpotifyManualStatus:
        """Poll this account's Spotify for the next 30 minutes."""
        status = await manual_connect.start_manual(info.context.player)
        return mirror(SpotifyManualStatus, status)

    @strawberry.mutation(permission_classes=WORKER)
    async def stop_spotify_manual(self, info: Ctx) -> bool:
        """Stop manual polling; false when it was not on."""
        return await manual_connect.stop_manual(info.context.player)


def build_schema(
    settings: Settings,
    subscription: type | None = None,
    *,
    queries: Sequence[type] = (),
    mutations: Sequence[type] = (),
) -> strawberry.Schema:
    """The schema with its limits; introspection only when the settings allow it.
    ``subscription``: the Subscription type, given by whoever serves live data;
    ``queries`` and ``mutations``: other domains' fields (song requests, play history),
    merged into Query and Mutation.

    The limits: at most MAX_TOKENS tokens and MAX_ALIASES aliases per document; depth
    and cost from the settings (``document_limits.DocumentLimits``, introspection included);
    batches are refused (Strawberry's default, no batching config). A text parsed and
    validated once is not parsed or validated again (``document_cache``)."""
    known = KnownDocuments()
    # Factories, so each request gets fresh extension instances.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: DocumentLimits(
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
        ),
        lambda: CachedDocuments(known),  # after DocumentLimits (see document_cache)
        RefusedStatus,
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    query = merge_types("Query", (Query, *queries)) if queries else Query
    mutation = merge_types("Mutation", (Mutation, *mutations)) if mutations else Mutation
    return TuneDeckSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


class TuneDeckGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's FastAPI router answering errors in the TuneDeck vocabulary. Its
    WebSockets are served by the handler :func:`install_graphql` is given."""

    websocket_adapter_class = QuietWebSocketAdapter

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """A page of another origin than the one it asked (Strawberry admits those) may
        open a socket by the live feed's rule (``kit.hosts.origin_allowed``)."""
        return origin_allowed(request, self.settings)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        # Strawberry answers a request it cannot read (not JSON, no query) in plain text;
        # raised as ours, it gets the error body every other door answers with.
        try:
            return await super().run(request, context=context, root_value=root_value)
        except CrossWebHTTPException as exc:
            if exc.reason == "Unsupported content type":
                raise UnsupportedMediaType(
                    "Send GraphQL operations as JSON (Content-Type: application/json)."
                ) from exc
            if "JSON" in exc.reason:
                raise InvalidJson(f"The request body is not valid JSON: {exc.reason}") from exc
            raise BadRequest(exc.reason, code=INVALID_QUERY, status=exc.status_code) from exc

    def parse_json(self, data: str | bytes) -> Any:
        """A request body: strict JSON (``kit.json_body``), and a GraphQL request, an
        object (a list would be a batch: refused)."""
        request = json_body.decode_json(data)
        if not isinstance(request, dict):
            raise BadRequest(
                'The request body must be a JSON object: {"query": ..., "variables": ...}.',
                code=INVALID_QUERY,
            )
        name = request.get("operationName")
        if name is not None and not isinstance(name, str):
            raise BadRequest("operationName must be a string or null.", code=INVALID_QUERY)
        return request

    def decode_json(self, data: str | bytes) -> object:
        """A WebSocket message (graphql-transport-ws), read as strictly as a request body.
        Refused, it reaches Strawberry as the JSONDecodeError of malformed JSON: the
        connection closes with 4400 (and a decoder's RecursionError never escapes)."""
        try:
            return json_body.decode_json(data, what="The message")
        except InvalidJson as exc:
            raise json.JSONDecodeError(exc.message, "", 0) from None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            answer["errors"] = [format_error(error) for error in result.errors]
        if result.extensions:
            answer["extensions"] = result.extensions
        return answer


SocketHandler = type[BaseGraphQLTransportWSHandler[GraphQLContext, None]]


def install_graphql(
    app: FastAPI,
    settings: Settings,
    subscription: type | None = None,
    sockets: SocketHandler | None = None,
    *,
    queries: Sequence[type] = (),
    mutations: Sequence[type] = (),
) -> None:
    """Serve ``/graphql`` (POST; a browser's GET is sent to GraphiQL by web.graphiql). Batches of
    operations are refused (Strawberry's default). With ``subscription`` and the handler
    of its ``sockets`` (who authenticates them, and keeps checking), subscriptions and
    operations are offered over WebSocket (``graphql-transport-ws``), to pages the live
    feed admits (``kit.hosts.origin_allowed``) and to clients sending no Origin."""
    if (subscription is None) != (sockets is None):
        raise TypeError("subscriptions need the handler of their sockets, and only they do")
    router = TuneDeckGraphQLRouter(
        build_schema(settings, subscription, queries=queries, mutations=mutations),
        context_getter=graphql_context,
        graphql_ide=None,  # GraphiQL is TuneDeck's own page (web.graphiql), from the package
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,) if subscription else (),
        settings=settings,
        route_class=GuardedRoute,
    )
    if sockets is not None:
        router.graphql_transport_ws_handler_class = sockets
    # No GET: operations are POSTed, and a browser's GET is answered by web.graphiql.
    router.routes = [
        route
        for route in router.routes
        if not (isinstance(route, APIRoute) and route.methods == {"GET"})
    ]
    # The GraphQL schema describes itself; /openapi.json stays the REST contract.
    app.include_router(router, prefix=GRAPHQL_PATH, include_in_schema=False)

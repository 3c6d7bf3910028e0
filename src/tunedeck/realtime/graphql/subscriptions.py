# Strawberry's field decorators called with options are typed as returning Any.
# mypy: disable-error-code="untyped-decorator"
"""GraphQL subscriptions (``graphql-transport-ws`` on ``/graphql``), fed by the same hub.

``spotifyNowPlaying``: a fresh now playing at once, then every change (``overlay:read``,
so overlay tokens too). ``spotifyEvents``: every playback event from now on
(``spotify:read``; never overlay tokens). ``requestsChanged``: every change of a song
request or of the queue from now on (``requests:read``), with the request changed.

Each subscription is a live client like a feed connection: watched, revocable (a revoked
credential closes the socket with 4401), closed when it falls behind (4408) or the
server stops (1001). The socket carrying them is a live connection too, whether or not
it holds one (``sockets``).

The player serves ``/graphql``; app.py hands it :class:`Subscription` and the handler of
its sockets, :class:`~tunedeck.realtime.graphql.sockets.GraphQLSocket` (the player never
imports realtime).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from tunedeck.accounts.permissions import Permission
from tunedeck.events.schemas import EventOut
from tunedeck.player.graphql.context import GraphQLContext
from tunedeck.player.graphql.permissions import needs
from tunedeck.player.graphql.types import (
    SpotifyEvent,
    SpotifyEventActor,
    SpotifyNowPlaying,
    mirror,
)
from tunedeck.player.schemas import NowPlayingOut
from tunedeck.realtime.credentials import LiveClient, reads_of
from tunedeck.realtime.graphql.sockets import GraphQLSocket
from tunedeck.realtime.hub import Closed, Outgoing
from tunedeck.realtime.live import live_of
from tunedeck.realtime.messages import RequestChange
from tunedeck.requests.graphql.types import SongRequest

Ctx = Info[GraphQLContext, None]


@strawberry.type
class SpotifyLiveNowPlaying:
    """What plays now, pushed on every change."""

    id: strawberry.ID = strawberry.field(
        description="The message id on the account's channel (increases)."
    )
    now_playing: SpotifyNowPlaying | None
    server_time: float = strawberry.field(
        description="Milliseconds since the epoch when this was read, to interpolate progress."
    )


@strawberry.type
class SpotifyLiveEvent:
    """A playback event, as it happens."""

    id: strawberry.ID = strawberry.field(
        description="The message id on the account's channel (increases)."
    )
    event: SpotifyEvent


async def _messages(info: Ctx, kind: str) -> AsyncGenerator[Outgoing, None]:
    """The subscriber's messages of ``kind``, from the hub, until it leaves or is closed."""
    context = info.context
    principal = context.principal
    socket = context.socket
    if context.conn is None or not isinstance(socket, GraphQLSocket) or socket.credential is None:
        raise RuntimeError("a subscription outside an authenticated GraphQL socket")
    live = live_of(context.conn)
    client = LiveClient(principal, socket.credential, reads_of(principal))
    try:
        with live.stream(client, "graphql", only=(kind,)) as stream:
            async for out in stream:
                yield out
    except Closed as closed:
        # The whole connection goes: a revoked credential must not keep the socket.
        socket.close_soon(closed.code, closed.reason)


def _now_playing(message: dict[str, Any]) -> SpotifyLiveNowPlaying:
    raw = message.get("now_playing")
    current = NowPlayingOut.model_validate(raw) if raw is not None else None
    return SpotifyLiveNowPlaying(
        id=strawberry.ID(str(message["id"])),
        now_playing=mirror(SpotifyNowPlaying, current) if current is not None else None,
        server_time=float(message["server_time"]),
    )


@strawberry.type
class RequestLiveChange:
    """A song request, or the request queue, changed."""

    id: strawberry.ID = strawberry.field(
        description="The message id on the account's channel (increases)."
    )
    event_type: str = strawberry.field(description="request:added, request:moved, ...")
    request: SongRequest | None = strawberry.field(
        description="The request changed; null for a change of the whole queue."
    )
    actor: SpotifyEventActor
    params: JSON = strawberry.field(description="What else the change says (see the events).")


def _request_change(message: dict[str, Any]) -> RequestLiveChange:
    change = RequestChange.model_validate(message)
    actor = change.actor
    params: Any = {k: v for k, v in change.event.params.items() if k != "request"}
    return RequestLiveChange(
        id=strawberry.ID(str(message["id"])),
        event_type=change.event_type.value,
        request=mirror(SongRequest, change.request) if change.request is not None else None,
        actor=SpotifyEventActor(key_id=actor.key_id, label=actor.label, kind=actor.kind),
        params=params,
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(permission_classes=[needs(Permission.OVERLAY_READ)])
    async def spotify_now_playing(self, info: Ctx) -> AsyncGenerator[SpotifyLiveNowPlaying, None]:
        """Now playing at once, then at every change (track, play/pause, seek, device...)."""
        async for out in _messages(info, "now_playing"):
            yield _now_playing(out.message)

    @strawberry.subscription(permission_classes=[needs(Permission.SPOTIFY_READ)])
    async def spotify_events(self, info: Ctx) -> AsyncGenerator[SpotifyLiveEvent, None]:
        """Every playback event recorded from now on (who did what, to which track)."""
        async for out in _messages(info, "event"):
            event = EventOut.model_validate(out.message["event"])
            yield SpotifyLiveEvent(
                id=strawberry.ID(str(out.message["id"])), event=SpotifyEvent.of(event)
            )

    @strawberry.subscription(permission_classes=[needs(Permission.REQUESTS_READ)])
    async def requests_changed(self, info: Ctx) -> AsyncGenerator[RequestLiveChange, None]:
        """Every change of a song request or of the queue from now on, with its actor."""
        async for out in _messages(info, "request"):
            yield _request_change(out.message)

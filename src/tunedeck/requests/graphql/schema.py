# Strawberry's field decorators called with options are typed as returning Any.
# mypy: disable-error-code="untyped-decorator"
"""Song requests' queries and mutations, merged into ``/graphql`` (transport only).

Every field names its permission (``needs``: the one check, as REST's routes do), builds
the input model REST takes (so both refuse the same values with the same messages) and
calls the service. A refused request is an error whose ``extensions.code`` is the
reason (``album_link``, ``cooldown``...) and whose message is the sentence.
"""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from tunedeck.accounts.permissions import Permission
from tunedeck.kit.errors import invalid_input
from tunedeck.player.graphql.arguments import build
from tunedeck.player.graphql.context import GraphQLContext
from tunedeck.player.graphql.permissions import needs
from tunedeck.player.graphql.types import mirror
from tunedeck.requests import doors, service
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.deps import matcher_of
from tunedeck.requests.graphql.types import (
    RequestBan,
    RequestHistoryPage,
    RequestQueue,
    RequestsCleared,
    RequestSettingsType,
    RequestState,
    RequestViewerInput,
    SongRequest,
)
from tunedeck.requests.reads import RequestNotFound
from tunedeck.requests.schemas import (
    BanIn,
    CloseIn,
    HistoryIn,
    MoveIn,
    RejectIn,
    SubmitIn,
    UnbanIn,
    ViewerIn,
)

Ctx = Info[GraphQLContext, None]
READ: list[type[BasePermission]] = [needs(Permission.REQUESTS_READ)]
SUBMIT: list[type[BasePermission]] = [needs(Permission.REQUESTS_SUBMIT)]
MODERATE: list[type[BasePermission]] = [needs(Permission.REQUESTS_MODERATE)]


def requests_of(info: Ctx) -> RequestsContext:
    """The operation's context: the caller's player context and the process's matcher."""
    player = info.context.player
    conn = info.context.conn
    if conn is None:
        raise RuntimeError("a GraphQL operation without its connection")
    return RequestsContext(
        player.principal, player.units, player.clients, player.cache, matcher_of(conn)
    )


def _id(value: strawberry.ID) -> uuid.UUID:
    """A request id; a malformed one is an unknown request (404), as REST's path is not."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise RequestNotFound(f"no request {str(value)[:40]!r} on this account") from None


@strawberry.type
class RequestsQuery:
    @strawberry.field(permission_classes=READ)
    async def request_queue(self, info: Ctx) -> RequestQueue:
        """The queue: playing, sent, then waiting in order, with positions and ETAs."""
        return mirror(RequestQueue, await service.queue(requests_of(info)))

    @strawberry.field(permission_classes=READ)
    async def request_history(
        self,
        info: Ctx,
        state: list[RequestState] | None = None,  # type: ignore[valid-type]
        after: str | None = None,
        limit: int = 50,
    ) -> RequestHistoryPage:
        """Requests newest first; ``after``: the previous page's ``nextCursor``."""
        page = build(HistoryIn, renamed={"cursor": "after"}, state=state, cursor=after, limit=limit)
        return mirror(RequestHistoryPage, await service.history(requests_of(info), page))

    @strawberry.field(permission_classes=READ)
    async def song_request(self, info: Ctx, id: strawberry.ID) -> SongRequest:
        """One request of this account."""
        return mirror(SongRequest, await service.get_request(requests_of(info), _id(id)))

    @strawberry.field(permission_classes=READ)
    async def request_settings(self, info: Ctx) -> RequestSettingsType:
        return RequestSettingsType.of(await service.get_settings(requests_of(info)))

    @strawberry.field(permission_classes=READ)
    async def request_bans(self, info: Ctx) -> list[RequestBan]:
        return [mirror(RequestBan, ban) for ban in await service.list_bans(requests_of(info))]


def _viewer(viewer: RequestViewerInput | None) -> dict[str, Any] | None:
    if viewer is None:
        return None
    return {
        "platform": viewer.platform,
        "id": viewer.id,
        "login": viewer.login,
        "display_name": viewer.display_name,
        "role": viewer.role,
    }


@strawberry.type
class RequestsMutation:
    @strawberry.mutation(permission_classes=SUBMIT)
    async def submit_request(
        self, info: Ctx, query: str, viewer: RequestViewerInput | None = None
    ) -> SongRequest:
        """Request a song for ``viewer``, or for the caller (the streamer's own)."""
        named = _viewer(viewer)
        body = build(SubmitIn, query=query, viewer=build(ViewerIn, **named) if named else None)
        return mirror(SongRequest, await doors.submit(requests_of(info), body))

    @strawberry.mutation(permission_classes=MODERATE)
    async def approve_request(self, info: Ctx, id: strawberry.ID) -> SongRequest:
        return mirror(SongRequest, await service.approve(requests_of(info), _id(id)))

    @strawberry.mutation(permission_classes=MODERATE)
    async def reject_request(
        self, info: Ctx, id: strawberry.ID, reason: str | None = None
    ) -> SongRequest:
        body = build(RejectIn, reason=reason)
        return mirror(SongRequest, await service.reject(requests_of(info), _id(id), body.reason))

    @strawberry.mutation(permission_classes=MODERATE)
    async def remove_request(self, info: Ctx, id: strawberry.ID) -> SongRequest:
        return mirror(SongRequest, await service.remove(requests_of(info), _id(id)))

    @strawberry.mutation(permission_classes=MODERATE)
    async def move_request(self, info: Ctx, id: strawberry.ID, position: int) -> SongRequest:
        """Move a waiting request to ``position`` (1-based among those waiting)."""
        body = build(MoveIn, position=position)
        moved = await service.move(requests_of(info), _id(id), body.position)
        return mirror(SongRequest, moved)

    @strawberry.mutation(permission_classes=MODERATE)
    async def promote_request(self, info: Ctx, id: strawberry.ID) -> SongRequest:
        return mirror(SongRequest, await service.promote(requests_of(info), _id(id)))

    @strawberry.mutation(permission_classes=MODERATE)
    async def skip_request(self, info: Ctx) -> SongRequest | None:
        """Skip the request playing now; null when none plays (nothing is skipped)."""
        skipped = await service.skip(requests_of(info))
        return mirror(SongRequest, skipped) if skipped is not None else None

    @strawberry.mutation(permission_classes=MODERATE)
    async def ban_request_viewer(
        self,
        info: Ctx,
        platform: str,
        id: str | None = None,
        login: str | None = None,
        display_name: str | None = None,
        reason: str | None = None,
        remove_waiting: bool = True,
    ) -> RequestBan:
        body = build(
            BanIn,
            platform=platform,
            id=id,
            login=login,
            display_name=display_name,
            reason=reason,
            remove_waiting=remove_waiting,
        )
        return mirror(RequestBan, await service.ban(requests_of(info), body))

    @strawberry.mutation(permission_classes=MODERATE)
    async def unban_request_viewer(self, info: Ctx, platform: str, id: str) -> bool:
        """Lift a ban; false when the viewer was not banned."""
        body = build(UnbanIn, platform=platform, id=id)
        return await service.unban(requests_of(info), body.platform, body.id)

    @strawberry.mutation(permission_classes=MODERATE)
    async def open_requests(self, info: Ctx) -> RequestSettingsType:
        return RequestSettingsType.of(await service.open_requests(requests_of(info)))

    @strawberry.mutation(permission_classes=MODERATE)
    async def close_requests(self, info: Ctx, message: str | None = None) -> RequestSettingsType:
        body = build(CloseIn, message=message)
        closed = await service.close_requests(requests_of(info), body.message)
        return RequestSettingsType.of(closed)

    @strawberry.mutation(permission_classes=MODERATE)
    async def update_request_settings(self, info: Ctx, settings: JSON) -> RequestSettingsType:
        """Replace the settings with the REST document (validated, the field named)."""
        if not isinstance(settings, dict):
            raise invalid_input("settings", "must be an object: the settings document")
        updated = await service.update_settings(requests_of(info), settings)
        return RequestSettingsType.of(updated)

    @strawberry.mutation(permission_classes=MODERATE)
    async def clear_requests(self, info: Ctx) -> RequestsCleared:
        return mirror(RequestsCleared, await service.clear(requests_of(info)))

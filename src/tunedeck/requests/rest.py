"""REST doors of song requests under ``/v1/requests``: transport only.

Each route declares its permission (``requests:read``, ``requests:submit``,
``requests:moderate``) and hands its validated input to the service.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, status
from starlette.requests import HTTPConnection

from tunedeck.accounts.auth import GuardedRoute, requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.kit.error_docs import AUTH_ERRORS, error_doc
from tunedeck.requests import doors, service
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.deps import requests_context
from tunedeck.requests.schemas import (
    BanIn,
    BanOut,
    ClearedOut,
    CloseIn,
    HistoryIn,
    HistoryPage,
    MoveIn,
    QueueOut,
    RejectIn,
    RequestOut,
    SettingsOut,
    SkipOut,
    SubmitIn,
    UnbanIn,
)

NOT_FOUND = error_doc("No such request on this account.")
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: NOT_FOUND,
    409: error_doc("The request is no longer waiting (or, to approve, not pending)."),
    422: error_doc("Invalid input."),
}
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    409: error_doc("Spotify is not connected or needs re-authorization."),
    422: error_doc(
        "The request was refused: ``code`` is the reason (closed, banned, too_many_waiting, "
        "cooldown, queue_full, album_link, not_found, explicit, track_too_long, ...) and "
        "``message`` the sentence a viewer reads; or the input is invalid."
    ),
}

router = APIRouter(prefix="/v1/requests", tags=["requests"], route_class=GuardedRoute)


def context(permission: Permission) -> Any:
    """Dependency: the operation's context, for a principal holding ``permission``."""

    async def dependency(
        conn: HTTPConnection, principal: Principal = Depends(requires(permission))
    ) -> RequestsContext:
        return requests_context(conn, principal)

    return Depends(dependency)


Read = Annotated[RequestsContext, context(Permission.REQUESTS_READ)]
Submit = Annotated[RequestsContext, context(Permission.REQUESTS_SUBMIT)]
Moderate = Annotated[RequestsContext, context(Permission.REQUESTS_MODERATE)]
RequestId = Annotated[uuid.UUID, Path(description="The request's id.")]


@router.get("", responses=AUTH_ERRORS)
async def get_queue(ctx: Read) -> QueueOut:
    """The queue: the request playing, the one sent to Spotify, then those waiting in
    order, with positions and estimated times until they play."""
    return await service.queue(ctx)


@router.post("", status_code=status.HTTP_201_CREATED, responses=SUBMIT_ERRORS)
async def post_request(ctx: Submit, body: SubmitIn) -> RequestOut:
    """Request a song (a Spotify track link or URI, or search text) for ``viewer``, or for
    the caller (the streamer's own: a key's source is ``api``, the dashboard's
    ``dashboard``)."""
    return await doors.submit(ctx, body)


@router.delete("", responses={**AUTH_ERRORS})
async def clear_queue(ctx: Moderate) -> ClearedOut:
    """Remove every waiting request (reason ``cleared``)."""
    return await service.clear(ctx)


@router.get("/history", responses={**AUTH_ERRORS, 400: error_doc("Unknown cursor.")})
async def get_history(ctx: Read, page: Annotated[HistoryIn, Query()]) -> HistoryPage:
    """Requests newest first (``state``: only those states), a page at a time."""
    return await service.history(ctx, page)


@router.get("/settings", responses=AUTH_ERRORS)
async def get_settings(ctx: Read) -> SettingsOut:
    """The channel's request settings: open or closed, the rules of each role, the lists."""
    return await service.get_settings(ctx)


@router.put("/settings", responses={**AUTH_ERRORS, 422: error_doc("A setting is invalid (named).")})
async def put_settings(ctx: Moderate, body: Annotated[dict[str, Any], Body()]) -> SettingsOut:
    """Replace the settings (fields left out take their defaults)."""
    return await service.update_settings(ctx, body)


@router.post("/open", responses=AUTH_ERRORS)
async def open_requests(ctx: Moderate) -> SettingsOut:
    """Open requests."""
    return await service.open_requests(ctx)


@router.post("/close", responses={**AUTH_ERRORS, 422: error_doc("Invalid input.")})
async def close_requests(ctx: Moderate, body: CloseIn | None = None) -> SettingsOut:
    """Close requests; viewers read ``message``."""
    return await service.close_requests(ctx, body.message if body else None)


@router.post("/skip", responses={**AUTH_ERRORS, 409: error_doc("Spotify refused.")})
async def skip_playing(ctx: Moderate) -> SkipOut:
    """Skip the request playing now; ``skipped`` is null when no request is playing
    (then nothing is skipped)."""
    return SkipOut(skipped=await service.skip(ctx))


@router.get("/bans", responses=AUTH_ERRORS)
async def get_bans(ctx: Read) -> list[BanOut]:
    """The viewers who may not request, newest first."""
    return await service.list_bans(ctx)


@router.post("/bans", status_code=status.HTTP_201_CREATED, responses=CHANGE_ERRORS)
async def post_ban(ctx: Moderate, body: BanIn) -> BanOut:
    """Ban a viewer (by ``platform`` and ``id``, or ``login``); ``remove_waiting`` removes
    their waiting requests too."""
    return await service.ban(ctx, body)


@router.delete("/bans", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_ERRORS)
async def delete_ban(ctx: Moderate, target: Annotated[UnbanIn, Query()]) -> None:
    """Lift a ban (404 when the viewer is not banned)."""
    if not await service.unban(ctx, target.platform, target.id):
        raise doors.BanNotFound(f"{target.platform} viewer {target.id} is not banned")


@router.get("/{request_id}", responses={**AUTH_ERRORS, 404: NOT_FOUND})
async def get_request(ctx: Read, request_id: RequestId) -> RequestOut:
    """One request."""
    return await service.get_request(ctx, request_id)


@router.post("/{request_id}/approve", responses=CHANGE_ERRORS)
async def approve(ctx: Moderate, request_id: RequestId) -> RequestOut:
    """Approve a pending request: it is queued."""
    return await service.approve(ctx, request_id)


@router.post("/{request_id}/reject", responses=CHANGE_ERRORS)
async def reject(ctx: Moderate, request_id: RequestId, body: RejectIn | None = None) -> RequestOut:
    """Turn a waiting request down, with a reason the viewer may read."""
    return await service.reject(ctx, request_id, body.reason if body else None)


@router.post("/{request_id}/remove", responses=CHANGE_ERRORS)
async def remove(ctx: Moderate, request_id: RequestId) -> RequestOut:
    """Remove a waiting request."""
    return await service.remove(ctx, request_id)


@router.post("/{request_id}/move", responses=CHANGE_ERRORS)
async def move(ctx: Moderate, request_id: RequestId, body: MoveIn) -> RequestOut:
    """Move a waiting request to ``position`` (1-based among those waiting)."""
    return await service.move(ctx, request_id, body.position)


@router.post("/{request_id}/promote", responses=CHANGE_ERRORS)
async def promote(ctx: Moderate, request_id: RequestId) -> RequestOut:
    """Move a waiting request first: it plays next."""
    return await service.promote(ctx, request_id)

"""REST doors of the accounts domain: who am I, dashboard sessions, keys, overlay tokens.

Transport only: each route declares its rule, builds the call's context and hands the
request's values to the service, which checks the permission and does the work in its
own unit of work. Cookies are the door's part: the session cookie is HttpOnly,
SameSite=Strict, Secure behind an https public URL; the page keeps the session's CSRF
token (``GET /v1/session``) in memory.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from tunedeck.accounts import service
from tunedeck.accounts.auth import (
    SESSION_COOKIE,
    GuardedRoute,
    authenticated,
    call_context,
    credential_from,
    public,
    session_times,
)
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    MeOut,
    OverlayTokenCreate,
    OverlayTokenCreated,
    OverlayTokenOut,
    SessionCreate,
    SessionOut,
)
from tunedeck.accounts.throttle import authentication_attempt
from tunedeck.config import Settings
from tunedeck.kit.deps import SettingsDep
from tunedeck.kit.error_docs import FAILED_LOGINS_DOC, error_doc
from tunedeck.kit.errors import ErrorDetails, Forbidden
from tunedeck.kit.unit_of_work import UnitsDep, UnitsOfWork

router = APIRouter(prefix="/v1", tags=["accounts"], route_class=GuardedRoute)

Authenticated = Annotated[Principal, Depends(authenticated)]
Caller = Annotated[CallContext, call_context(None)]
Admin = Annotated[CallContext, call_context(Permission.ADMIN)]


@router.get("/me")
async def me(principal: Authenticated) -> MeOut:
    """The calling principal: account, key label, permissions."""
    return service.me(principal)


@router.post(
    "/session",
    dependencies=[Depends(public)],
    responses={
        401: error_doc("Not a valid API key."),
        403: error_doc("Sent from another site's page (csrf_failed)."),
        429: FAILED_LOGINS_DOC,
    },
)
async def login(
    body: SessionCreate,
    units: UnitsDep,
    request: Request,
    response: Response,
    settings: SettingsDep,
) -> SessionOut:
    """Trade an API key for an HttpOnly, SameSite=Strict session cookie (for the dashboard).

    The answer carries the session's CSRF token, to send as ``X-CSRF-Token`` with every
    state-changing request made with the cookie."""
    refuse_other_sites(request)
    async with authentication_attempt(request):
        return await open_browser_session(units, body.key, response, settings)


def refuse_other_sites(request: Request) -> None:
    """Refuse a sign-in posted by another site's page: it would sign this browser in as
    someone else."""
    if request.headers.get("sec-fetch-site") in {"cross-site", "same-site"}:
        raise Forbidden(
            "sign in from TuneDeck's own pages",
            code="csrf_failed",
            details=ErrorDetails(hint="open the dashboard and paste the key there"),
        )


async def open_browser_session(
    units: UnitsOfWork, key: str, response: Response, settings: Settings
) -> SessionOut:
    """Trade ``key`` for a dashboard session set as this browser's cookie (the sign-in,
    and the first-run setup's first step)."""
    ttl = timedelta(seconds=settings.session_ttl_seconds)
    idle = timedelta(seconds=settings.session_idle_seconds)
    created, principal = await service.start_session(units, key, ttl, idle=idle)
    response.set_cookie(
        SESSION_COOKIE,
        created.secret,
        max_age=settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
    )
    return SessionOut(
        me=service.me(principal),
        expires_at=created.row.expires_at,
        idle_timeout_seconds=settings.session_idle_seconds,
        csrf_token=service.csrf_token(created.secret),
    )


@router.get("/session", responses={404: error_doc("The call came with an API key, not a session.")})
async def current_session(request: Request, ctx: Caller) -> SessionOut:
    """The dashboard session this call came with (404 for a call with an API key): who,
    until when unless used again, and its CSRF token."""
    secret = credential_from(request)
    row = await service.current_session(ctx, secret)
    assert secret is not None  # current_session refused a call without a session
    return SessionOut(
        me=service.me(ctx.principal),
        expires_at=row.expires_at,
        idle_timeout_seconds=int(session_times(request).idle.total_seconds()),
        csrf_token=service.csrf_token(secret),
    )


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, ctx: Caller) -> Response:
    """End the dashboard session (if the call came with one) and clear the cookie."""
    await service.logout(ctx, credential_from(request))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/keys")
async def list_keys(ctx: Admin) -> list[ApiKeyOut]:
    return await service.list_keys(ctx)


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyCreate, ctx: Admin) -> ApiKeyCreated:
    """Create a key of the caller's account. The key is in this response and nowhere else."""
    return await service.create_key(ctx, body.label, body.permissions)


@router.delete(
    "/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: error_doc("No such key in this account.")},
)
async def revoke_key(key_id: uuid.UUID, ctx: Admin) -> None:
    await service.revoke_key(ctx, key_id)


@router.get("/overlay-tokens")
async def list_overlay_tokens(ctx: Admin) -> list[OverlayTokenOut]:
    return await service.list_tokens(ctx)


@router.post("/overlay-tokens", status_code=status.HTTP_201_CREATED)
async def create_overlay_token(
    body: OverlayTokenCreate, ctx: Admin, settings: SettingsDep
) -> OverlayTokenCreated:
    return await service.create_token(ctx, body.label, settings.public_url)


@router.delete(
    "/overlay-tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: error_doc("No such overlay token in this account.")},
)
async def revoke_overlay_token(token_id: uuid.UUID, ctx: Admin) -> None:
    await service.revoke_token(ctx, token_id)

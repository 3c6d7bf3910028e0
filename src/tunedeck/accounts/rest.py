"""REST doors of the accounts domain: who am I, dashboard sessions, keys, overlay tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from tunedeck.accounts import service
from tunedeck.accounts.auth import SESSION_COOKIE, authenticated, credential_from, public, requires
from tunedeck.accounts.models import ApiKey, OverlayToken
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.accounts.schemas import (
    AccountOut,
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
from tunedeck.accounts.secrets import SecretKind, kind_of
from tunedeck.kit.db import SessionDep
from tunedeck.kit.deps import SettingsDep

router = APIRouter(prefix="/v1", tags=["accounts"])

Authenticated = Annotated[Principal, Depends(authenticated)]
Admin = Annotated[Principal, Depends(requires(Permission.ADMIN))]


def me_of(principal: Principal) -> MeOut:
    return MeOut(
        account=AccountOut(id=principal.account_id, name=principal.account_name),
        kind=principal.kind,
        label=principal.label,
        key_id=principal.key_id,
        permissions=sorted(p.value for p in principal.permissions),
    )


@router.get("/me")
async def me(principal: Authenticated) -> MeOut:
    """The calling principal: account, key label, permissions."""
    return me_of(principal)


@router.post("/session", dependencies=[Depends(public)])
async def login(
    body: SessionCreate, session: SessionDep, response: Response, settings: SettingsDep
) -> SessionOut:
    """Trade an API key for an HttpOnly, SameSite=Strict session cookie (for the dashboard)."""
    ttl = timedelta(seconds=settings.session_ttl_seconds)
    created, principal = await service.start_session(session, body.key, ttl)
    response.set_cookie(
        SESSION_COOKIE,
        created.secret,
        max_age=settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
    )
    return SessionOut(me=me_of(principal), expires_at=created.row.expires_at)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, session: SessionDep, _: Authenticated) -> Response:
    """End the dashboard session (if the call came with one) and clear the cookie."""
    secret = credential_from(request)
    if secret is not None and kind_of(secret) is SecretKind.SESSION:
        await service.end_session(session, secret)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/keys")
async def list_keys(principal: Admin, session: SessionDep) -> list[ApiKeyOut]:
    keys: list[ApiKey] = list(await service.list_api_keys(session, principal.account_id))
    return [ApiKeyOut.model_validate(k) for k in keys]


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyCreate, principal: Admin, session: SessionDep) -> ApiKeyCreated:
    """Create a key of the caller's account. The key is in this response and nowhere else."""
    created = await service.create_api_key(
        session, principal.account_id, body.label, body.permissions
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(created.row).model_dump(), key=created.secret)


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: uuid.UUID, principal: Admin, session: SessionDep) -> None:
    await service.revoke_api_key(session, key_id, principal.account_id)


@router.get("/overlay-tokens")
async def list_overlay_tokens(principal: Admin, session: SessionDep) -> list[OverlayTokenOut]:
    tokens: list[OverlayToken] = list(
        await service.list_overlay_tokens(session, principal.account_id)
    )
    return [OverlayTokenOut.model_validate(t) for t in tokens]


@router.post("/overlay-tokens", status_code=status.HTTP_201_CREATED)
async def create_overlay_token(
    body: OverlayTokenCreate, principal: Admin, session: SessionDep, settings: SettingsDep
) -> OverlayTokenCreated:
    created = await service.create_overlay_token(session, principal.account_id, body.label)
    return OverlayTokenCreated(
        **OverlayTokenOut.model_validate(created.row).model_dump(),
        token=created.secret,
        overlay_url=service.overlay_url(settings.public_url, created.secret),
    )


@router.delete("/overlay-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_overlay_token(token_id: uuid.UUID, principal: Admin, session: SessionDep) -> None:
    await service.revoke_overlay_token(session, token_id, principal.account_id)

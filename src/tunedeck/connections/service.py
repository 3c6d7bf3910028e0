"""App credentials and connection status: the logic the REST doors call.

Each operation takes the call's :class:`CallContext`, checks that the caller holds
``admin`` and acts on the caller's own account, in a unit of work of its own
(``ctx.begin()``). The OAuth flow itself is in ``oauth_flow``; refreshing tokens is the
``TokenManager``'s job.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.connections import repository as repo
from tunedeck.connections.models import ConnectionStatus
from tunedeck.connections.schemas import (
    AppCredentialsIn,
    AppCredentialsOut,
    ConnectionOut,
    LinkState,
)
from tunedeck.kit.crypto import Keyring
from tunedeck.spotify.oauth import SCOPES
from tunedeck.spotify.quirks import QuirksRegistry

HINT_CHARS = 4


def client_id_hint(client_id: str) -> str:
    """Enough of a client id to recognise it, never all of it."""
    shown = client_id[:HINT_CHARS] if len(client_id) > 2 * HINT_CHARS else ""
    return shown + "…"


def _app_out(app: repo.AppSecrets | None) -> AppCredentialsOut:
    if app is None:
        return AppCredentialsOut(configured=False)
    return AppCredentialsOut(
        configured=True, client_id_hint=client_id_hint(app.client_id), updated_at=app.updated_at
    )


ADMIN = Permission.ADMIN


async def set_app_credentials(
    ctx: CallContext, keyring: Keyring, body: AppCredentialsIn, quirks: QuirksRegistry
) -> AppCredentialsOut:
    """Store (or replace) the account's Spotify app. A different app cannot use tokens
    granted to the old one, so an existing connection then needs re-authorization, and
    what ``quirks`` (the token manager's registry) learned about the old app is dropped."""
    account_id = authorize(ctx, ADMIN)
    async with ctx.begin() as work:
        session = work.session
        before = await repo.app_credentials(session, keyring, account_id)
        await repo.save_app_credentials(
            session, keyring, account_id, body.client_id, body.client_secret
        )
        if before is not None and before.client_id != body.client_id:
            stored = await repo.connection(session, keyring, account_id)
            if stored is not None:
                await repo.mark_needs_reauth(session, stored)
            quirks.forget(before.client_id)
        return _app_out(await repo.app_credentials(session, keyring, account_id))


async def app_credentials_status(ctx: CallContext, keyring: Keyring) -> AppCredentialsOut:
    """Whether the account's Spotify app is configured (never its secret)."""
    account_id = authorize(ctx, ADMIN)
    async with ctx.begin() as work:
        return _app_out(await repo.app_credentials(work.session, keyring, account_id))


async def connection_status(ctx: CallContext, keyring: Keyring) -> ConnectionOut:
    """What the dashboard shows: app configured, connected user, scopes, token expiry."""
    account_id = authorize(ctx, ADMIN)
    async with ctx.begin() as work:
        return await connection_of(work.session, keyring, account_id)


async def connection_of(
    session: AsyncSession, keyring: Keyring, account_id: uuid.UUID
) -> ConnectionOut:
    """The connection status of ``account_id``, in a unit of work already open for a
    caller authorized for it (the operation above; the OAuth callback, authenticated by
    its single-use state)."""
    app = await repo.app_credentials(session, keyring, account_id)
    stored = await repo.connection(session, keyring, account_id)
    if stored is None or stored.status == ConnectionStatus.DISCONNECTED:
        return ConnectionOut(status=LinkState.NOT_CONNECTED, connected=False, app=_app_out(app))
    scopes = stored.scopes.split()
    state = LinkState.ACTIVE if stored.status == ConnectionStatus.ACTIVE else LinkState.NEEDS_REAUTH
    return ConnectionOut(
        status=state,
        connected=state is LinkState.ACTIVE and app is not None,
        app=_app_out(app),
        spotify_user_id=stored.spotify_user_id,
        scopes=sorted(scopes),
        missing_scopes=[s for s in SCOPES if s not in scopes],
        expires_at=stored.expires_at,
        connected_at=stored.created_at,
        updated_at=stored.updated_at,
    )


async def disconnect(ctx: CallContext) -> None:
    """Forget the account's tokens and pending authorizations (the app credentials stay)."""
    account_id = authorize(ctx, ADMIN)
    async with ctx.begin() as work:
        await repo.delete_connection(work.session, account_id)
        await repo.delete_authorizations_of(work.session, account_id)

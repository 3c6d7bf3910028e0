"""All SQL of the connections domain, and the only place its secrets are sealed or opened.

Rows leave this module as plain dataclasses with the secrets decrypted; every query is
scoped by account. Nothing here commits: callers own their unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tunedeck.accounts.models import Account
from tunedeck.connections.models import (
    SPOTIFY,
    AppCredential,
    ChannelConnection,
    ConnectionStatus,
    OAuthState,
)
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import encryption_context, utcnow


@dataclass(frozen=True, slots=True)
class AppSecrets:
    """An account's Spotify app, decrypted."""

    client_id: str
    client_secret: str = field(repr=False)
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredConnection:
    """An account's Spotify grant, tokens decrypted.

    ``refresh_sealed`` is the stored ciphertext of the refresh token: a fresh random
    nonce per write makes it a version stamp, so a conditional update can tell whether
    anyone replaced the tokens since this row was read.
    """

    id: uuid.UUID
    account_id: uuid.UUID
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    refresh_sealed: str | None = field(repr=False)
    expires_at: datetime
    scopes: str
    status: str
    spotify_user_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConnectionToken:
    """A connection's status and access token, decrypted."""

    status: str
    access_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ClientGrant:
    """What a Spotify client of an account is made from: the app's client id (None: no
    app credentials) and the connection's token (None: no connection)."""

    client_id: str | None
    token: ConnectionToken | None


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """A row of oauth_states, the PKCE verifier decrypted."""

    id: uuid.UUID
    account_id: uuid.UUID
    code_verifier: str = field(repr=False)
    redirect_uri: str
    return_to: str | None
    expires_at: datetime
    used_at: datetime | None


Column = InstrumentedAttribute[Any]


def _seal(keyring: Keyring, column: Column, account_id: uuid.UUID, value: str) -> str:
    return keyring.encrypt(value, encryption_context(column, account_id))


def _open(keyring: Keyring, column: Column, account_id: uuid.UUID, value: str) -> str:
    return keyring.decrypt(value, encryption_context(column, account_id))


# ---- app credentials ---------------------------------------------------------------


async def app_credentials(
    session: AsyncSession, keyring: Keyring, account_id: uuid.UUID
) -> AppSecrets | None:
    row = await session.scalar(
        select(AppCredential).where(
            AppCredential.account_id == account_id, AppCredential.platform == SPOTIFY
        )
    )
    if row is None:
        return None
    return AppSecrets(
        client_id=_open(keyring, AppCredential.client_id, account_id, row.client_id),
        client_secret=_open(keyring, AppCredential.client_secret, account_id, row.client_secret),
        updated_at=row.updated_at,
    )


async def save_app_credentials(
    session: AsyncSession,
    keyring: Keyring,
    account_id: uuid.UUID,
    client_id: str,
    client_secret: str,
) -> None:
    """Insert or replace the account's app credentials."""
    sealed_id = _seal(keyring, AppCredential.client_id, account_id, client_id)
    sealed_secret = _seal(keyring, AppCredential.client_secret, account_id, client_secret)
    query = update(AppCredential).where(
        AppCredential.account_id == account_id, AppCredential.platform == SPOTIFY
    )
    values = {"client_id": sealed_id, "client_secret": sealed_secret, "updated_at": utcnow()}
    if (await session.execute(query.values(**values))).rowcount:  # type: ignore[attr-defined]
        return
    try:
        # A savepoint: when a concurrent request inserted first, update its row instead.
        async with session.begin_nested():
            session.add(AppCredential(account_id=account_id, platform=SPOTIFY, **values))
            await session.flush()
    except IntegrityError:
        await session.execute(query.values(**values))


# ---- connections ---------------------------------------------------------------------


# Built once: every call that reaches Spotify runs it (building it costs more than its cache
# lookup). An account has at most one row of each (unique on account and platform).
_CLIENT_GRANT = (
    select(
        AppCredential.client_id,
        ChannelConnection.status,
        ChannelConnection.access_token,
        ChannelConnection.expires_at,
    )
    .select_from(Account)
    .outerjoin(
        AppCredential,
        and_(AppCredential.account_id == Account.id, AppCredential.platform == SPOTIFY),
    )
    .outerjoin(
        ChannelConnection,
        and_(ChannelConnection.account_id == Account.id, ChannelConnection.platform == SPOTIFY),
    )
    .where(Account.id == bindparam("account_id"))
)


async def client_grant(
    session: AsyncSession, keyring: Keyring, account_id: uuid.UUID
) -> ClientGrant:
    """The client id and the access token of the account, in one query (every API call
    that reaches Spotify starts here), opening only those two secrets."""
    row = (await session.execute(_CLIENT_GRANT, {"account_id": account_id})).first()
    if row is None:
        return ClientGrant(None, None)
    client_id, status, access_token, expires_at = row
    token = None
    if status is not None:
        opened = _open(keyring, ChannelConnection.access_token, account_id, access_token)
        token = ConnectionToken(status=status, access_token=opened, expires_at=expires_at)
    return ClientGrant(
        client_id=(
            _open(keyring, AppCredential.client_id, account_id, client_id) if client_id else None
        ),
        token=token,
    )


async def connection(
    session: AsyncSession, keyring: Keyring, account_id: uuid.UUID, *, lock: bool = False
) -> StoredConnection | None:
    """The account's Spotify connection. ``lock`` takes the row lock (SELECT ... FOR
    UPDATE) on PostgreSQL until the transaction ends; SQLite ignores it."""
    query = select(ChannelConnection).where(
        ChannelConnection.account_id == account_id, ChannelConnection.platform == SPOTIFY
    )
    if lock:
        query = query.with_for_update()
    row = await session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        return None
    return StoredConnection(
        id=row.id,
        account_id=row.account_id,
        access_token=_open(keyring, ChannelConnection.access_token, account_id, row.access_token),
        refresh_token=(
            _open(keyring, ChannelConnection.refresh_token, account_id, row.refresh_token)
            if row.refresh_token
            else None
        ),
        refresh_sealed=row.refresh_token,
        expires_at=row.expires_at,
        scopes=row.scopes,
        status=row.status,
        spotify_user_id=row.platform_channel_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def save_connection(
    session: AsyncSession,
    keyring: Keyring,
    account_id: uuid.UUID,
    *,
    access_token: str,
    refresh_token: str,
    expires_at: datetime,
    scopes: str,
    spotify_user_id: str,
) -> None:
    """Insert or replace the account's connection with a new grant (status active)."""
    values = {
        "access_token": _seal(keyring, ChannelConnection.access_token, account_id, access_token),
        "refresh_token": _seal(keyring, ChannelConnection.refresh_token, account_id, refresh_token),
        "expires_at": expires_at,
        "scopes": scopes,
        "platform_channel_id": spotify_user_id,
        "status": ConnectionStatus.ACTIVE,
        "updated_at": utcnow(),
    }
    query = update(ChannelConnection).where(
        ChannelConnection.account_id == account_id, ChannelConnection.platform == SPOTIFY
    )
    if (await session.execute(query.values(**values))).rowcount:  # type: ignore[attr-defined]
        return
    try:
        async with session.begin_nested():
            session.add(ChannelConnection(account_id=account_id, platform=SPOTIFY, **values))
            await session.flush()
    except IntegrityError:
        await session.execute(query.values(**values))


async def store_refreshed_tokens(
    session: AsyncSession,
    keyring: Keyring,
    current: StoredConnection,
    *,
    access_token: str,
    refresh_token: str,
    expires_at: datetime,
    scopes: str | None,
) -> None:
    """Write a refresh's outcome over the row ``current`` was read from."""
    account_id = current.account_id
    values: dict[str, object] = {
        "access_token": _seal(keyring, ChannelConnection.access_token, account_id, access_token),
        "refresh_token": _seal(keyring, ChannelConnection.refresh_token, account_id, refresh_token),
        "expires_at": expires_at,
        "status": ConnectionStatus.ACTIVE,
        "updated_at": utcnow(),
    }
    if scopes:
        values["scopes"] = scopes
    await session.execute(
        update(ChannelConnection)
        .where(ChannelConnection.id == current.id, ChannelConnection.account_id == account_id)
        .values(**values)
    )


async def mark_needs_reauth(session: AsyncSession, current: StoredConnection) -> bool:
    """Mark the connection needs_reauth unless its tokens changed since ``current`` was read
    (someone reconnected or refreshed meanwhile); True when it was marked."""
    query = update(ChannelConnection).where(
        ChannelConnection.id == current.id, ChannelConnection.account_id == current.account_id
    )
    if current.refresh_sealed is None:
        query = query.where(ChannelConnection.refresh_token.is_(None))
    else:
        query = query.where(ChannelConnection.refresh_token == current.refresh_sealed)
    result = await session.execute(
        query.values(status=ConnectionStatus.NEEDS_REAUTH, updated_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_connection(session: AsyncSession, account_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(ChannelConnection).where(
            ChannelConnection.account_id == account_id, ChannelConnection.platform == SPOTIFY
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---- pending authorizations (oauth_states) --------------------------------------------


async def add_pending_authorization(
    session: AsyncSession,
    keyring: Keyring,
    account_id: uuid.UUID,
    *,
    state: str,
    code_verifier: str,
    redirect_uri: str,
    return_to: str | None,
    expires_at: datetime,
) -> None:
    session.add(
        OAuthState(
            state=state,
            account_id=account_id,
            platform=SPOTIFY,
            code_verifier=_seal(keyring, OAuthState.code_verifier, account_id, code_verifier),
            redirect_uri=redirect_uri,
            return_to=return_to,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def pending_authorization(
    session: AsyncSession, keyring: Keyring, state: str
) -> PendingAuthorization | None:
    row = await session.scalar(
        select(OAuthState).where(OAuthState.state == state, OAuthState.platform == SPOTIFY)
    )
    if row is None:
        return None
    return PendingAuthorization(
        id=row.id,
        account_id=row.account_id,
        code_verifier=_open(keyring, OAuthState.code_verifier, row.account_id, row.code_verifier),
        redirect_uri=row.redirect_uri,
        return_to=row.return_to,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


async def claim_pending_authorization(
    session: AsyncSession, pending: PendingAuthorization, now: datetime
) -> bool:
    """Mark a state used if it is still unused and unexpired: one statement, so of two
    concurrent callbacks exactly one wins (PostgreSQL's row lock, SQLite's write lock)."""
    result = await session.execute(
        update(OAuthState)
        .where(
            OAuthState.id == pending.id,
            OAuthState.account_id == pending.account_id,
            OAuthState.used_at.is_(None),
            OAuthState.expires_at > now,
        )
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_stale_authorizations(
    session: AsyncSession, account_id: uuid.UUID, now: datetime
) -> None:
    """Forget the account's expired states (used ones are kept until they expire, so a
    replay is told 'already used' rather than 'unknown')."""
    await session.execute(
        delete(OAuthState).where(OAuthState.account_id == account_id, OAuthState.expires_at <= now)
    )


async def delete_authorizations_of(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(delete(OAuthState).where(OAuthState.account_id == account_id))

"""All SQL of the accounts domain. Every query about keys and tokens is scoped by account."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.models import Account, ApiKey, DashboardSession, OverlayToken


async def add(
    session: AsyncSession, row: Account | ApiKey | OverlayToken | DashboardSession
) -> None:
    session.add(row)
    await session.flush()


async def account_by_name(session: AsyncSession, name: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.name == name))


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def list_accounts(session: AsyncSession) -> Sequence[Account]:
    return (await session.scalars(select(Account).order_by(Account.name))).all()


async def list_api_keys(session: AsyncSession, account_id: uuid.UUID) -> Sequence[ApiKey]:
    query = select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at)
    return (await session.scalars(query)).all()


async def api_key(
    session: AsyncSession, key_id: uuid.UUID, account_id: uuid.UUID | None
) -> ApiKey | None:
    """A key by id; with ``account_id``, only if it belongs to that account."""
    query = select(ApiKey).where(ApiKey.id == key_id)
    if account_id is not None:
        query = query.where(ApiKey.account_id == account_id)
    return await session.scalar(query)


# Built once: every request authenticated with an API key runs it.
_ACTIVE_API_KEY = (
    select(ApiKey, Account)
    .join(Account, Account.id == ApiKey.account_id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


async def active_api_key_by_hash(
    session: AsyncSession, key_hash: str
) -> tuple[ApiKey, Account] | None:
    row = (await session.execute(_ACTIVE_API_KEY, {"key_hash": key_hash})).first()
    return None if row is None else (row[0], row[1])


async def touch_api_key(session: AsyncSession, key_id: uuid.UUID, when: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))


async def list_overlay_tokens(
    session: AsyncSession, account_id: uuid.UUID
) -> Sequence[OverlayToken]:
    query = (
        select(OverlayToken)
        .where(OverlayToken.account_id == account_id)
        .order_by(OverlayToken.created_at)
    )
    return (await session.scalars(query)).all()


async def overlay_token(
    session: AsyncSession, token_id: uuid.UUID, account_id: uuid.UUID | None
) -> OverlayToken | None:
    query = select(OverlayToken).where(OverlayToken.id == token_id)
    if account_id is not None:
        query = query.where(OverlayToken.account_id == account_id)
    return await session.scalar(query)


async def active_overlay_token_by_hash(
    session: AsyncSession, token_hash: str
) -> tuple[OverlayToken, Account] | None:
    query = (
        select(OverlayToken, Account)
        .join(Account, Account.id == OverlayToken.account_id)
        .where(OverlayToken.token_hash == token_hash, OverlayToken.revoked_at.is_(None))
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1])


async def live_session_by_hash(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[DashboardSession, ApiKey, Account] | None:
    """A session that has not expired, made from a key that is not revoked."""
    query = (
        select(DashboardSession, ApiKey, Account)
        .join(ApiKey, ApiKey.id == DashboardSession.api_key_id)
        .join(Account, Account.id == ApiKey.account_id)
        .where(
            DashboardSession.token_hash == token_hash,
            DashboardSession.expires_at > now,
            ApiKey.revoked_at.is_(None),
        )
    )
    row = (await session.execute(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def extend_session(session: AsyncSession, row_id: uuid.UUID, expires_at: datetime) -> None:
    await session.execute(
        update(DashboardSession).where(DashboardSession.id == row_id).values(expires_at=expires_at)
    )


async def delete_session_by_hash(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.token_hash == token_hash))


async def delete_sessions_of_key(session: AsyncSession, key_id: uuid.UUID) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.api_key_id == key_id))


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.expires_at <= now))


# ---- live connections: which of their credentials still stand ---------------------------


async def active_api_key_ids(
    session: AsyncSession, key_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``key_ids`` that exist and are not revoked (one query)."""
    if not key_ids:
        return set()
    query = select(ApiKey.id).where(ApiKey.id.in_(list(key_ids)), ApiKey.revoked_at.is_(None))
    return set(await session.scalars(query))


async def active_overlay_token_ids(
    session: AsyncSession, token_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``token_ids`` that exist and are not revoked (one query)."""
    if not token_ids:
        return set()
    query = select(OverlayToken.id).where(
        OverlayToken.id.in_(list(token_ids)), OverlayToken.revoked_at.is_(None)
    )
    return set(await session.scalars(query))


async def live_session_hashes(
    session: AsyncSession, token_hashes: Collection[str], now: datetime
) -> set[str]:
    """Those of ``token_hashes`` whose dashboard session exists and has not expired."""
    if not token_hashes:
        return set()
    query = select(DashboardSession.token_hash).where(
        DashboardSession.token_hash.in_(list(token_hashes)), DashboardSession.expires_at > now
    )
    return set(await session.scalars(query))

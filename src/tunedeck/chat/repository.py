"""All SQL of the chat door: chat tokens, every query scoped by account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.models import Account
from tunedeck.requests.models import ChatToken


async def add(session: AsyncSession, token: ChatToken) -> None:
    session.add(token)
    await session.flush()


async def list_tokens(session: AsyncSession, account_id: uuid.UUID) -> Sequence[ChatToken]:
    query = (
        select(ChatToken).where(ChatToken.account_id == account_id).order_by(ChatToken.created_at)
    )
    return (await session.scalars(query)).all()


async def token(
    session: AsyncSession, token_id: uuid.UUID, account_id: uuid.UUID | None
) -> ChatToken | None:
    """A token by id; with ``account_id``, only if it belongs to that account."""
    query = select(ChatToken).where(ChatToken.id == token_id)
    if account_id is not None:
        query = query.where(ChatToken.account_id == account_id)
    return await session.scalar(query)


# Built once: every chat command runs it.
_ACTIVE_TOKEN = (
    select(ChatToken, Account)
    .join(Account, Account.id == ChatToken.account_id)
    .where(ChatToken.token_hash == bindparam("token_hash"), ChatToken.revoked_at.is_(None))
)


async def active_token_by_hash(
    session: AsyncSession, token_hash: str
) -> tuple[ChatToken, Account] | None:
    row = (await session.execute(_ACTIVE_TOKEN, {"token_hash": token_hash})).first()
    return None if row is None else (row[0], row[1])


async def touch(session: AsyncSession, token_id: uuid.UUID, when: datetime) -> None:
    await session.execute(
        update(ChatToken).where(ChatToken.id == token_id).values(last_used_at=when)
    )

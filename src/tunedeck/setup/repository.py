"""Every SQL statement of the setup domain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.accounts.models import Account
from tunedeck.setup.models import SetupLink


async def any_account(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(Account.id.is_not(None)))))


async def completed(session: AsyncSession) -> bool:
    query = select(exists().where(SetupLink.completed_at.is_not(None)))
    return bool(await session.scalar(query))


async def used_link(session: AsyncSession) -> SetupLink | None:
    """The link that created the account, if setup went that far."""
    query = select(SetupLink).where(SetupLink.used_at.is_not(None)).limit(1)
    return (await session.scalars(query)).first()


async def link_of_account(session: AsyncSession, account_id: uuid.UUID) -> SetupLink | None:
    query = select(SetupLink).where(SetupLink.account_id == account_id).limit(1)
    return (await session.scalars(query)).first()


async def delete_unused(session: AsyncSession) -> None:
    await session.execute(delete(SetupLink).where(SetupLink.used_at.is_(None)))


async def add(session: AsyncSession, link: SetupLink) -> None:
    session.add(link)
    await session.flush()


async def claim(session: AsyncSession, code_hash: str, now: datetime) -> SetupLink | None:
    """Mark the unused, unexpired link of ``code_hash`` used, in one statement (two
    tabs submitting at once: one wins); None when there is no such link."""
    claimed = await session.execute(
        update(SetupLink)
        .where(
            SetupLink.code_hash == code_hash,
            SetupLink.used_at.is_(None),
            SetupLink.expires_at > now,
        )
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return (await session.scalars(select(SetupLink).where(SetupLink.code_hash == code_hash))).one()


async def link_by_hash(session: AsyncSession, code_hash: str) -> SetupLink | None:
    query = select(SetupLink).where(SetupLink.code_hash == code_hash)
    return (await session.scalars(query)).first()

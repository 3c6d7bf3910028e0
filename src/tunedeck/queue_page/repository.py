"""SQL of the public queue page's link."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.kit.db import utcnow
from tunedeck.queue_page.models import QueuePageLink


async def of_account(session: AsyncSession, account_id: uuid.UUID) -> QueuePageLink | None:
    return await session.get(QueuePageLink, account_id)


async def account_of(session: AsyncSession, public_id: str) -> uuid.UUID | None:
    """The account whose page ``public_id`` is, if that link is on."""
    found = await session.scalar(
        select(QueuePageLink.account_id).where(QueuePageLink.public_id == public_id)
    )
    return found


async def put(session: AsyncSession, account_id: uuid.UUID, public_id: str) -> QueuePageLink:
    """Give the account's page the link ``public_id`` (the old link, if any, stops)."""
    link = await session.get(QueuePageLink, account_id)
    if link is None:
        link = QueuePageLink(account_id=account_id, public_id=public_id, created_at=utcnow())
        session.add(link)
    else:
        link.public_id = public_id
        link.created_at = utcnow()
    await session.flush()
    return link


async def remove(session: AsyncSession, account_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(QueuePageLink).where(QueuePageLink.account_id == account_id)
    )
    return bool(getattr(result, "rowcount", 0))

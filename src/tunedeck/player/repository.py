"""All SQL of the player domain: the manual-connect windows. Nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.player.models import ManualConnectWindow


async def manual_window(session: AsyncSession, account_id: uuid.UUID) -> ManualConnectWindow | None:
    """The account's window, expired or not."""
    return await session.get(ManualConnectWindow, account_id, populate_existing=True)


async def open_manual_window(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    started_at: datetime,
    expires_at: datetime,
    started_by: str,
) -> ManualConnectWindow:
    """Open the account's window, or move the end of the current one."""
    window = await manual_window(session, account_id)
    if window is None:
        window = ManualConnectWindow(account_id=account_id)
        session.add(window)
    window.started_at = started_at
    window.expires_at = expires_at
    window.started_by = started_by[:100]
    await session.flush()
    return window


async def close_manual_window(session: AsyncSession, account_id: uuid.UUID) -> datetime | None:
    """Delete the account's window; its end time if there was one."""
    result = await session.execute(
        delete(ManualConnectWindow)
        .where(ManualConnectWindow.account_id == account_id)
        .returning(ManualConnectWindow.expires_at)
    )
    return result.scalar_one_or_none()


async def accounts_in_manual_window(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Accounts whose window is open at ``now`` (what the poller watches)."""
    rows = await session.scalars(
        select(ManualConnectWindow.account_id).where(ManualConnectWindow.expires_at > now)
    )
    return list(rows)

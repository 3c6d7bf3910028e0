"""Manual connect: poll an account's Spotify for 30 minutes, whoever is watching.

The window is a row in the database so that every process (and the poller, which
reads it through the watched registry) sees it. Each operation is one short unit of
work of its own.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tunedeck.accounts.context import authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.kit.db import utcnow
from tunedeck.player import repository
from tunedeck.player.context import PlayerContext, client
from tunedeck.player.schemas import ManualStatusOut

MANUAL_CONNECT_TTL = timedelta(minutes=30)


def _status(expires_at: datetime | None, now: datetime) -> ManualStatusOut:
    if expires_at is None or expires_at <= now:
        return ManualStatusOut(active=False, remaining_seconds=0)
    remaining = math.ceil((expires_at - now).total_seconds())
    return ManualStatusOut(active=True, remaining_seconds=remaining, expires_at=expires_at)


async def manual_status(ctx: PlayerContext) -> ManualStatusOut:
    authorize(ctx, Permission.SPOTIFY_READ)
    async with ctx.begin() as work:
        window = await repository.manual_window(work.session, ctx.account_id)
    return _status(window.expires_at if window else None, utcnow())


async def start_manual(
    ctx: PlayerContext, *, ttl: timedelta = MANUAL_CONNECT_TTL
) -> ManualStatusOut:
    """Open (or extend to a full ``ttl``, 30 minutes) the account's window.

    Polling an account that cannot be polled is pointless, so the account must be
    connected (409 otherwise); this checks the stored connection, not Spotify. The
    watched registry reads the window: the account is polled while it is open.
    """
    authorize(ctx, Permission.SPOTIFY_WORKER)
    await client(ctx)
    now = utcnow()
    async with ctx.begin() as work:
        window = await repository.open_manual_window(
            work.session,
            ctx.account_id,
            started_at=now,
            expires_at=now + ttl,
            started_by=ctx.principal.label,
        )
    return _status(window.expires_at, now)


async def stop_manual(ctx: PlayerContext) -> bool:
    """End the window early; whether one was open."""
    authorize(ctx, Permission.SPOTIFY_WORKER)
    async with ctx.begin() as work:
        expired_at = await repository.close_manual_window(work.session, ctx.account_id)
    return expired_at is not None and expired_at > utcnow()

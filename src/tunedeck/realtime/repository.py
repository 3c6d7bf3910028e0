"""All SQL of the real-time domain: the watch heartbeats (``realtime_watchers``), how
many pollers are alive (their membership leases in ``kit.leases``'s table), and the
rate-limit pauses of Spotify apps (``spotify_app_pauses``).

Each function takes a session and does one statement (pausing an app: a clean-up and an
upsert); the caller opens a short unit of work around it (``Database.session()``), never
a request's session. Heartbeats are written in bulk, one statement for any number of
accounts.

The clock: on PostgreSQL expiry is written and judged by the database server's
``now()``, one clock for every process on every host (as ``kit.leases`` does); SQLite
is a file on this machine, so there it is this machine's UTC clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, delete, func, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.kit.db import UTCDateTime, utcnow
from tunedeck.kit.leases import Lease
from tunedeck.realtime.models import RealtimeWatcher, SpotifyAppPause

# Rows are written in account order, so two statements touching the same rows lock them
# in the same order. ("WHERE true": SQLite's upsert after a SELECT needs a WHERE clause.)
_BEAT_POSTGRES = text(
    """
INSERT INTO realtime_watchers (account_id, process_id, expires_at)
SELECT a.id, :process_id, now() + make_interval(secs => :linger)
FROM unnest(CAST(:accounts AS uuid[])) AS a(id) ORDER BY a.id
ON CONFLICT (account_id, process_id) DO UPDATE SET expires_at = excluded.expires_at
"""
).bindparams(bindparam("accounts", type_=ARRAY(String)))

# SQLite stores a UUID as its 32 hex digits (SQLAlchemy's Uuid type there).
_BEAT_SQLITE = text(
    """
INSERT INTO realtime_watchers (account_id, process_id, expires_at)
SELECT value, :process_id, :expires FROM json_each(:accounts) WHERE true ORDER BY value
ON CONFLICT (account_id, process_id) DO UPDATE SET expires_at = excluded.expires_at
"""
).bindparams(bindparam("expires", type_=UTCDateTime()))


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _now(session: AsyncSession) -> ColumnElement[datetime]:
    """The statement's "now": the server's on PostgreSQL, this machine's on SQLite."""
    if _postgres(session):
        return func.now()
    return literal(utcnow(), UTCDateTime())


async def beat(
    session: AsyncSession, process_id: str, accounts: Collection[uuid.UUID], linger: float
) -> None:
    """Mark ``accounts`` watched by ``process_id`` until ``linger`` seconds from now."""
    if not accounts:
        return
    ordered = sorted(accounts)
    params: dict[str, Any] = {"process_id": process_id}
    if _postgres(session):
        params.update(accounts=[str(a) for a in ordered], linger=float(linger))
        await session.execute(_BEAT_POSTGRES, params)
        return
    params.update(
        accounts=json.dumps([a.hex for a in ordered]),
        expires=utcnow() + timedelta(seconds=linger),
    )
    await session.execute(_BEAT_SQLITE, params)


async def watched_accounts(session: AsyncSession) -> set[uuid.UUID]:
    """Accounts with a heartbeat not yet expired, in any process."""
    rows = await session.scalars(
        select(RealtimeWatcher.account_id).where(RealtimeWatcher.expires_at > _now(session))
    )
    return set(rows)


async def delete_expired(session: AsyncSession) -> int:
    """Forget the heartbeats that have expired (any process's); how many went."""
    result = await session.execute(
        delete(RealtimeWatcher).where(RealtimeWatcher.expires_at <= _now(session))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def live_leases(session: AsyncSession, prefix: str) -> int:
    """How many leases whose name starts with ``prefix`` are live (not expired)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Lease)
        .where(Lease.name.startswith(prefix, autoescape=True), Lease.expires_at > _now(session))
    )
    return int(count or 0)


async def pause_app(session: AsyncSession, client_id: str, seconds: float) -> None:
    """Pause the Spotify app ``client_id`` for ``seconds`` from now (a later pause already
    written stays); expired pauses of any app are forgotten on the way."""
    now = _now(session)
    await session.execute(delete(SpotifyAppPause).where(SpotifyAppPause.paused_until <= now))
    wait = timedelta(seconds=seconds)
    until = func.now() + wait if _postgres(session) else literal(utcnow() + wait, UTCDateTime())
    insert = (postgresql.insert if _postgres(session) else sqlite.insert)(SpotifyAppPause)
    statement = insert.values(client_id=client_id, paused_until=until)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SpotifyAppPause.client_id],
            set_={"paused_until": statement.excluded.paused_until},
            where=statement.excluded.paused_until > SpotifyAppPause.paused_until,
        )
    )


async def app_pauses(session: AsyncSession) -> dict[str, float]:
    """The Spotify apps paused now: seconds left per client id (on the database's clock)."""
    now = _now(session)
    rows = await session.execute(
        select(SpotifyAppPause.client_id, SpotifyAppPause.paused_until, now).where(
            SpotifyAppPause.paused_until > now
        )
    )
    return {client_id: (until - at).total_seconds() for client_id, until, at in rows}

"""All SQL of the events domain: the outbox, the store, and the query of stored events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.events.schemas import EventOut

ERROR_LENGTH = 500


def add_to_outbox(session: AsyncSession, event: EventOut) -> None:
    session.add(
        OutboxEvent(
            event_id=event.id,
            account_id=event.account_id,
            occurred_at=event.occurred_at,
            payload=event.model_dump(mode="json"),
        )
    )


async def outbox_waiting_for_store(session: AsyncSession, limit: int) -> list[OutboxEvent]:
    rows = await session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.stored_at.is_(None))
        .order_by(OutboxEvent.seq)
        .limit(limit)
    )
    return list(rows)


async def outbox_waiting_for_publish(
    session: AsyncSession, limit: int, *, stored_only: bool = False
) -> list[OutboxEvent]:
    """Rows not published yet, oldest first; ``stored_only``: only those already stored."""
    query = select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    if stored_only:
        query = query.where(OutboxEvent.stored_at.is_not(None))
    rows = await session.scalars(query.order_by(OutboxEvent.seq).limit(limit))
    return list(rows)


def _store_row(row: OutboxEvent, now: datetime) -> dict[str, Any]:
    event = EventOut.model_validate(row.payload)
    return {
        "id": event.id,
        "occurred_at": event.occurred_at,
        "account_id": event.account_id,
        "event_type": event.type.value,
        "actor_key_id": event.actor.key_id,
        "actor_label": event.actor.label,
        "actor_kind": event.actor.kind,
        "params": event.params,
        "track": event.track.model_dump(mode="json") if event.track is not None else None,
        "stored_at": now,
    }


async def store_events(session: AsyncSession, rows: Sequence[OutboxEvent], now: datetime) -> None:
    """Insert the events into ``platform_events``; an event already there is left as it is."""
    if not rows:
        return
    values = [_store_row(row, now) for row in rows]
    keys = ["id", "occurred_at"]
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(PlatformEvent).on_conflict_do_nothing(index_elements=keys)
        await session.execute(pg, values)
    else:
        lite = sqlite.insert(PlatformEvent).on_conflict_do_nothing(index_elements=keys)
        await session.execute(lite, values)


async def mark_stored(session: AsyncSession, seqs: Sequence[int], now: datetime) -> None:
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.seq.in_(seqs)).values(stored_at=now)
    )


async def mark_published(session: AsyncSession, seqs: Sequence[int], now: datetime) -> None:
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.seq.in_(seqs)).values(published_at=now)
    )


async def note_failure(session: AsyncSession, seqs: Sequence[int], error: str) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.seq.in_(seqs))
        .values(attempts=OutboxEvent.attempts + 1, last_error=error[:ERROR_LENGTH])
    )


async def delete_delivered(session: AsyncSession) -> int:
    """Delete the outbox rows that are both stored and published."""
    result = await session.execute(
        delete(OutboxEvent).where(
            OutboxEvent.stored_at.is_not(None), OutboxEvent.published_at.is_not(None)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def outbox_size(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(OutboxEvent))
    return int(count or 0)


async def outbox_backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many events wait in the outbox, and when the oldest of them occurred."""
    count = await outbox_size(session)
    oldest = await session.scalar(
        select(OutboxEvent.occurred_at).order_by(OutboxEvent.seq).limit(1)
    )
    return count, oldest


async def query_events(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    types: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
    actor_key_id: str | None = None,
) -> list[PlatformEvent]:
    """An account's stored events, newest first (``occurred_at``, then ``id``), at most ``limit``.

    ``since`` is inclusive, ``until`` exclusive; ``before`` is the position of a cursor.
    """
    query = select(PlatformEvent).where(PlatformEvent.account_id == account_id)
    if types:
        query = query.where(PlatformEvent.event_type.in_(list(types)))
    if actor_key_id is not None:
        query = query.where(PlatformEvent.actor_key_id == actor_key_id)
    if since is not None:
        query = query.where(PlatformEvent.occurred_at >= since)
    if until is not None:
        query = query.where(PlatformEvent.occurred_at < until)
    if before is not None:
        # Typed binds: the cursor's time and id compare the way the columns store them.
        at, event_id = before
        position = tuple_(
            bindparam("cursor_at", at, type_=PlatformEvent.occurred_at.type),
            bindparam("cursor_id", event_id, type_=PlatformEvent.id.type),
        )
        query = query.where(tuple_(PlatformEvent.occurred_at, PlatformEvent.id) < position)
    query = query.order_by(PlatformEvent.occurred_at.desc(), PlatformEvent.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def events_by_ids(
    session: AsyncSession, account_id: uuid.UUID, event_ids: Sequence[uuid.UUID]
) -> list[PlatformEvent]:
    """The account's stored events among ``event_ids`` (any order; missing ones absent)."""
    if not event_ids:
        return []
    query = select(PlatformEvent).where(
        PlatformEvent.account_id == account_id, PlatformEvent.id.in_(list(event_ids))
    )
    return list(await session.scalars(query))

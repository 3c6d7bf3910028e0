"""All SQL of the events domain: the outbox, the store, and the query of stored events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Insert,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.events.schemas import EventOut

ERROR_LENGTH = 500

# The relay works on one connection per pass; the request path and tests on sessions.
Executor = AsyncSession | AsyncConnection


def _dialect(executor: Executor) -> str:
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def _outbox_row(event: EventOut) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "account_id": event.account_id,
        "occurred_at": event.occurred_at,
        "payload": event.model_dump(mode="json"),
    }


def add_to_outbox(session: AsyncSession, event: EventOut) -> None:
    session.add(OutboxEvent(**_outbox_row(event)))


def outbox_insert(event: EventOut) -> Insert:
    """The statement writing the event's outbox row (a unit of work of one statement:
    ``kit.unit_of_work.UnitsOfWork.run_alone``)."""
    return insert(OutboxEvent).values(**_outbox_row(event))


@dataclass(frozen=True, slots=True)
class Waiting:
    """An outbox row as the relay handles it: the event and where its two tracks stand."""

    seq: int
    event_id: uuid.UUID
    account_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]
    stored: bool
    published: bool


_WAITING = select(
    OutboxEvent.seq,
    OutboxEvent.event_id,
    OutboxEvent.account_id,
    OutboxEvent.occurred_at,
    OutboxEvent.payload,
    OutboxEvent.stored_at.is_not(None),
    OutboxEvent.published_at.is_not(None),
).order_by(OutboxEvent.seq)


async def _waiting(executor: Executor, query: Select[Any]) -> list[Waiting]:
    # Plain rows, no ORM objects: the relay reads hundreds at a time.
    return [Waiting(*row) for row in await executor.execute(query)]


async def outbox_head(executor: Executor, limit: int) -> list[Waiting]:
    """The oldest ``limit`` outbox rows, whatever is left to do for them."""
    return await _waiting(executor, _WAITING.limit(limit))


async def outbox_waiting_for_store(executor: Executor, limit: int) -> list[Waiting]:
    query = _WAITING.where(OutboxEvent.stored_at.is_(None)).limit(limit)
    return await _waiting(executor, query)


async def outbox_waiting_for_publish(
    executor: Executor, limit: int, *, stored_only: bool = False
) -> list[Waiting]:
    """Rows not published yet, oldest first; ``stored_only``: only those already stored."""
    query = _WAITING.where(OutboxEvent.published_at.is_(None))
    if stored_only:
        query = query.where(OutboxEvent.stored_at.is_not(None))
    return await _waiting(executor, query.limit(limit))


class Recorded(Protocol):
    """What storing needs of an outbox row (a ``Waiting`` or an ``OutboxEvent``)."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def account_id(self) -> uuid.UUID: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def _store_row(row: Recorded, now: datetime) -> dict[str, Any]:
    # The payload is an EventOut's JSON form, made by record_event: read, not re-validated
    # (the row's own columns are authoritative for the key and the account).
    payload = row.payload
    actor = payload["actor"]
    return {
        "id": row.event_id,
        "occurred_at": row.occurred_at,
        "account_id": row.account_id,
        "event_type": payload["type"],
        "actor_key_id": actor.get("key_id"),
        "actor_label": actor["label"],
        "actor_kind": actor["kind"],
        "params": payload.get("params") or {},
        "track": payload.get("track"),
        "stored_at": now,
    }


# PostgreSQL: the whole batch as one statement over one array per column (one parse,
# one execution; a multi-row VALUES would be a new statement for every batch size).
_PG_STORE = text(
    "INSERT INTO platform_events (id, occurred_at, account_id, event_type, actor_key_id,"
    " actor_label, actor_kind, params, track, stored_at)"
    " SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:occurred_at AS timestamptz[]),"
    " CAST(:account_id AS uuid[]), CAST(:event_type AS varchar[]),"
    " CAST(:actor_key_id AS varchar[]), CAST(:actor_label AS varchar[]),"
    " CAST(:actor_kind AS varchar[]), CAST(:params AS json[]), CAST(:track AS json[]),"
    " CAST(:stored_at AS timestamptz[]))"
    " ON CONFLICT (id, occurred_at) DO NOTHING"
)


async def store_events(executor: Executor, rows: Sequence[Recorded], now: datetime) -> None:
    """Insert the events into ``platform_events`` in one statement; an event already
    there (a redelivery: same id and time) is left as it is."""
    if not rows:
        return
    values = [_store_row(row, now) for row in rows]
    if _dialect(executor) == "postgresql":
        columns: dict[str, list[Any]] = {name: [v[name] for v in values] for name in values[0]}
        columns["params"] = [json.dumps(p) for p in columns["params"]]
        columns["track"] = [None if t is None else json.dumps(t) for t in columns["track"]]
        await executor.execute(_PG_STORE, columns)
    else:
        keys = ["id", "occurred_at"]
        lite = sqlite.insert(PlatformEvent).on_conflict_do_nothing(index_elements=keys)
        await executor.execute(lite, values)


async def mark_stored(executor: Executor, seqs: Sequence[int], now: datetime) -> None:
    if seqs:
        await executor.execute(
            update(OutboxEvent).where(OutboxEvent.seq.in_(seqs)).values(stored_at=now)
        )


async def mark_published(executor: Executor, seqs: Sequence[int], now: datetime) -> None:
    if seqs:
        await executor.execute(
            update(OutboxEvent).where(OutboxEvent.seq.in_(seqs)).values(published_at=now)
        )


async def note_failure(executor: Executor, seqs: Sequence[int], error: str) -> None:
    await executor.execute(
        update(OutboxEvent)
        .where(OutboxEvent.seq.in_(seqs))
        .values(attempts=OutboxEvent.attempts + 1, last_error=error[:ERROR_LENGTH])
    )


async def delete_rows(executor: Executor, seqs: Sequence[int]) -> int:
    """Delete these outbox rows (the relay knows them done on both tracks)."""
    if not seqs:
        return 0
    result = await executor.execute(delete(OutboxEvent).where(OutboxEvent.seq.in_(seqs)))
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_delivered(executor: Executor) -> int:
    """Delete the outbox rows that are both stored and published."""
    result = await executor.execute(
        delete(OutboxEvent).where(
            OutboxEvent.stored_at.is_not(None), OutboxEvent.published_at.is_not(None)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def oldest_waiting(executor: Executor) -> datetime | None:
    """When the oldest event still in the outbox happened (None: the outbox is empty)."""
    return await executor.scalar(select(func.min(OutboxEvent.occurred_at)))


async def outbox_size(executor: Executor) -> int:
    count = await executor.scalar(select(func.count()).select_from(OutboxEvent))
    return int(count or 0)


async def outbox_backlog(
    session: AsyncSession, *, at_most: int | None = None
) -> tuple[int, datetime | None]:
    """How many events wait in the outbox (counted up to ``at_most + 1`` when given, so a
    huge backlog is never counted whole), and when the oldest of them occurred."""
    if at_most is None:
        count = await outbox_size(session)
    else:
        counted = select(literal(1)).select_from(OutboxEvent).limit(at_most + 1).subquery()
        count = int(await session.scalar(select(func.count()).select_from(counted)) or 0)
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

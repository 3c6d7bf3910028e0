"""Record an event with the action that caused it: one outbox row in the request's session
(``record_event``), or as a unit of work of its own (``record_event_alone``: an action's
event, once Spotify answered).

The row commits before the caller is answered, so a successful action is never without
its event. After the commit the relays of the database are woken (``outbox.Outbox``,
reached through the session, or the database); they also poll, so an event is never left
behind if the wake-up is missed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tunedeck.events.outbox import Outbox, outbox_of
from tunedeck.events.repository import add_to_outbox, insert_into_outbox
from tunedeck.events.schemas import Actor, EventOut, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.db import Database, utcnow

# Set on a session holding unrecorded-yet events; cleared by its commit or rollback.
PENDING = "tunedeck.events.pending"


async def record_event(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    event_type: EventType,
    actor: Actor,
    params: dict[str, Any],
    track: TrackSnapshot | None,
) -> EventOut:
    """Add the event to ``session``'s outbox and return it (not flushed; the caller commits).

    The event's id and time are fixed here: a redelivery stores the same row again.
    Invalid input (unknown type, params that are not JSON) fails here, in the action.
    """
    recorded = new_event(account_id, event_type, actor, params, track)
    add_to_outbox(session, recorded)
    session.info[PENDING] = True
    return recorded


async def record_event_alone(
    db: Database,
    *,
    account_id: uuid.UUID,
    event_type: EventType,
    actor: Actor,
    params: dict[str, Any],
    track: TrackSnapshot | None,
) -> EventOut:
    """Record the event as a unit of work of its own, committed when this returns (an
    action's event, once Spotify answered), and wake the relays.

    On PostgreSQL the outbox row is the whole transaction: one INSERT on an autocommit
    connection, which commits with the statement, where a session's BEGIN, INSERT and
    COMMIT take three round trips. On SQLite, a session's unit of work as ``record_event``.
    """
    if db.backend != "postgresql":
        async with db.session() as session:
            return await record_event(
                session,
                account_id=account_id,
                event_type=event_type,
                actor=actor,
                params=params,
                track=track,
            )
    recorded = new_event(account_id, event_type, actor, params, track)
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await insert_into_outbox(autocommit, recorded)
    Outbox.of(db).wake()
    return recorded


def new_event(
    account_id: uuid.UUID,
    event_type: EventType,
    actor: Actor,
    params: dict[str, Any],
    track: TrackSnapshot | None,
) -> EventOut:
    """The event, its id and time fixed here (a redelivery stores the same row again);
    invalid input (unknown type, params that are not JSON) fails here, in the action."""
    return EventOut(
        id=uuid.uuid4(),
        account_id=account_id,
        type=EventType(event_type),
        occurred_at=utcnow(),
        actor=actor,
        params=dict(params),
        track=track,
    )


def _after_commit(session: Session) -> None:
    if session.info.pop(PENDING, False):
        outbox = outbox_of(session)
        if outbox is not None:
            outbox.wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


# Every session: a dict lookup per commit, and only sessions that recorded wake a relay.
# The listeners keep no state: what to wake comes with the session.
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)

"""Record an event with the action that caused it: one outbox row in the action's unit of work.

The row commits with the action (before the caller is answered), so a successful action
is never without its event, and an action that fails leaves none. The unit of work is
told it wrote to the outbox, so its commit wakes the relay (``kit.unit_of_work``); the
relay also polls, so an event is never left behind if a wake-up is missed.
"""

from __future__ import annotations

import uuid
from typing import Any

from tunedeck.events.repository import add_to_outbox, outbox_insert
from tunedeck.events.schemas import Actor, EventOut, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.db import utcnow
from tunedeck.kit.unit_of_work import UnitOfWork, UnitsOfWork


async def record_event(
    work: UnitOfWork,
    *,
    account_id: uuid.UUID,
    event_type: EventType,
    actor: Actor,
    params: dict[str, Any],
    track: TrackSnapshot | None,
) -> EventOut:
    """Add the event to the outbox in ``work`` and return it (not flushed; the unit of
    work commits).

    The event's id and time are fixed here: a redelivery stores the same row again.
    Invalid input (unknown type, params that are not JSON) fails here, in the action.
    """
    recorded = new_event(account_id, event_type, actor, params, track)
    add_to_outbox(work.session, recorded)
    work.wrote_outbox()
    return recorded


async def record_event_alone(
    units: UnitsOfWork,
    *,
    account_id: uuid.UUID,
    event_type: EventType,
    actor: Actor,
    params: dict[str, Any],
    track: TrackSnapshot | None,
) -> EventOut:
    """Record the event as a unit of work of its own (``UnitsOfWork.run_alone``: one
    statement, committed when this returns, the relay woken): an action's event, once
    Spotify answered, which writes nothing else."""
    recorded = new_event(account_id, event_type, actor, params, track)
    await units.run_alone(outbox_insert(recorded), outbox_rows=1)
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

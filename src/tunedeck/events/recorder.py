"""Record an event with the action that caused it: one outbox row in the action's unit of work.

The row commits with the action (before the caller is answered), so a successful action
is never without its event, and an action that fails leaves none. The unit of work is
told it wrote to the outbox, so its commit wakes the relay (``kit.unit_of_work``); the
relay also polls, so an event is never left behind if a wake-up is missed.
"""

from __future__ import annotations

import uuid
from typing import Any

from tunedeck.events.repository import add_to_outbox
from tunedeck.events.schemas import Actor, EventOut, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.db import utcnow
from tunedeck.kit.unit_of_work import UnitOfWork


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
    recorded = EventOut(
        id=uuid.uuid4(),
        account_id=account_id,
        type=EventType(event_type),
        occurred_at=utcnow(),
        actor=actor,
        params=dict(params),
        track=track,
    )
    add_to_outbox(work.session, recorded)
    work.wrote_outbox()
    return recorded

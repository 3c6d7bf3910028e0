"""Every change of a request, or of a channel's queue, is an event (``request:*``) recorded
in the unit of work that made it: stored and broadcast like playback events, and carried
to live clients holding ``requests:read`` as a ``request`` message.

``params``: ``request`` (the request as :class:`RequestOut` shows it, when the change is
about one), and what else the change says (``position`` of a move, ``removed`` ids of a
ban or a clear, ``viewer`` of a ban, ``open`` and ``message`` of the settings).
"""

from __future__ import annotations

import uuid
from typing import Any

from tunedeck.accounts.context import CallContext
from tunedeck.events.recorder import record_event
from tunedeck.events.schemas import Actor, EventOut
from tunedeck.events.types import EventType
from tunedeck.kit.unit_of_work import UnitOfWork
from tunedeck.requests.schemas import RequestOut


async def record_request_event(
    work: UnitOfWork,
    *,
    account_id: uuid.UUID,
    event_type: EventType,
    actor: Actor,
    request: RequestOut | None,
    params: dict[str, Any] | None = None,
) -> EventOut:
    """Record a ``request:*`` event in ``work`` (for any writer: the service, the feeder)."""
    body: dict[str, Any] = dict(params or {})
    if request is not None:
        body["request"] = request.model_dump(mode="json")
    return await record_event(
        work, account_id=account_id, event_type=event_type, actor=actor, params=body, track=None
    )


async def record_change(
    work: UnitOfWork,
    ctx: CallContext,
    event_type: EventType,
    request: RequestOut | None,
    **params: Any,
) -> EventOut:
    """Record the change an operation made, with its caller as the actor."""
    return await record_request_event(
        work,
        account_id=ctx.account_id,
        event_type=event_type,
        actor=Actor.from_principal(ctx.principal),
        request=request,
        params=params,
    )

"""Reading events back: an account's stored events, newest first, filtered and paged.

Called by the REST door (``rest.py``) and the GraphQL field ``spotifyEvents``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.events import repository
from tunedeck.events.models import PlatformEvent
from tunedeck.events.schemas import Actor, EventOut, EventPage, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.errors import BadRequest, ValidationFailed, invalid_input

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


# A position in the listing: the event's time (microseconds since 1970, UTC) and its id.
# Every text of this form is a position (17 digits stay within the years datetime can
# hold), so the description can say exactly what a cursor is.
CURSOR = r"^[0-9]{1,17}\.[0-9a-f]{32}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(occurred_at: datetime, event_id: uuid.UUID) -> str:
    """An opaque position after which (older) the next page starts."""
    if occurred_at.tzinfo is None:  # as SQLite gives it back: UTC
        occurred_at = occurred_at.replace(tzinfo=UTC)
    return f"{(occurred_at - _EPOCH) // _MICROSECOND}.{event_id.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    if not re.fullmatch(CURSOR, cursor):
        raise BadRequest(
            "invalid cursor: pass next_cursor from a previous page as it is", code="bad_cursor"
        )
    micros, _, event_id = cursor.partition(".")
    return _EPOCH + int(micros) * _MICROSECOND, uuid.UUID(hex=event_id)


def parse_types(types: Sequence[str | EventType] | None) -> list[str] | None:
    """Event type names (``spotify:play``; a comma-separated list also works) -> values."""
    if not types:
        return None
    names = [n for t in types for n in str(t).split(",")]
    known = {t.value for t in EventType}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown event type {', '.join(repr(u) for u in unknown)}; "
            f"known: {', '.join(sorted(known))}",
            code="unknown_event_type",
        )
    return sorted(set(names))


def _aware(moment: datetime | None) -> datetime | None:
    # A time without an offset is taken as UTC.
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def event_out(row: PlatformEvent) -> EventOut:
    return EventOut(
        id=row.id,
        account_id=row.account_id,
        type=EventType(row.event_type),
        occurred_at=row.occurred_at,
        actor=Actor(key_id=row.actor_key_id, label=row.actor_label, kind=row.actor_kind),
        params=row.params,
        track=TrackSnapshot.model_validate(row.track) if row.track is not None else None,
    )


async def list_events(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    types: Sequence[str | EventType] | None = None,
    actor_key_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> EventPage:
    """The account's stored events, newest first.

    ``types``: only these types; ``actor_key_id``: only what that API key did;
    ``since`` (inclusive) / ``until`` (exclusive): a time window; ``cursor``:
    ``next_cursor`` of the previous page; ``limit``: 1 to 200.
    Bad input raises ``BadRequest`` / ``ValidationFailed`` (a 4xx).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_input(
            "limit", f"must be between 1 and {MAX_LIMIT}, got {limit}", rule="out_of_range"
        )
    since, until = _aware(since), _aware(until)
    wanted = parse_types(types)
    before = decode_cursor(cursor) if cursor is not None else None
    if since is not None and until is not None and since >= until:
        return EventPage(items=[], next_cursor=None)  # an empty window
    rows = await repository.query_events(
        session,
        account_id,
        types=wanted,
        actor_key_id=actor_key_id,
        since=since,
        until=until,
        before=before,
        limit=limit + 1,
    )
    items = [event_out(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.occurred_at, last.id)
    return EventPage(items=items, next_cursor=next_cursor)

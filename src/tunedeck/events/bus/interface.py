"""What every bus is: the :class:`EventBus` interface, the shapes it speaks in, and what it
knows of a message.

A bus gives every message it publishes an ``id`` that increases per account channel in
delivery order, across processes. A channel's counter starts at the current time in
milliseconds, so it keeps increasing when the bus restarts empty. The bus also keeps, per
account, a bounded index of the ``event`` messages (message id -> event id), which lets
a reconnecting client be sent what it missed (:meth:`EventBus.history`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from tunedeck.events.bus.local import Callback, Subscription

# Events indexed per account for resuming clients (older ones: the client gets a reset).
HISTORY_SIZE = 1000

Outgoing = tuple[uuid.UUID, dict[str, Any]]  # (account id, message)


@dataclass(frozen=True, slots=True)
class History:
    """Where an account channel stands, and the events published after some id.

    ``head``: the id of the channel's latest message (0 < head; the next is greater);
    ``floor``: every event published with an id above it is in the index (older entries
    were trimmed, or the counter started over there); ``events``: ``(message id, event
    id)`` of the indexed events above the asked ``since``, oldest first.
    """

    head: int
    floor: int
    events: tuple[tuple[int, uuid.UUID], ...] = ()

    def covers(self, since: int) -> bool:
        """Whether every event published after ``since`` is in ``events``."""
        return self.floor <= since <= self.head


class BusUnavailable(Exception):  # noqa: N818 (reads as a state)
    """Messages could not be published (the relay keeps them and retries).

    ``published``: how many of a ``publish_many`` batch certainly went out before it failed.
    """

    def __init__(self, message: str, *, published: int = 0) -> None:
        super().__init__(message)
        self.published = published


class EventBus(Protocol):
    """What the relay and the poller publish to and the real-time hub subscribes to."""

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        """Deliver ``message`` (any ``id`` in it is replaced) to the account's subscribers
        with the next id of its channel; return that id. ``BusUnavailable`` if it cannot."""
        ...

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[int]:
        """Publish in this order, in as few round trips as the bus allows; the ids given."""
        ...

    def subscribe(self, account_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]:
        """``async with bus.subscribe(account_id) as sub: async for message in sub: ...``"""
        ...

    def listen(self, account_id: uuid.UUID, callback: Callback) -> Callable[[], None]:
        """Call ``callback`` with each message of the account (in this process, in order);
        returns the function that stops it. For the hub: one per account, not per client."""
        ...

    async def history(self, account_id: uuid.UUID, since: int | None = None) -> History:
        """The channel's head and floor, and (with ``since``) the indexed events after it."""
        ...

    @property
    def connected(self) -> bool:
        """Whether publishing can work now (Redis: this process's subscription is live)."""
        ...

    @property
    def reconnects(self) -> int:
        """How many times the bus lost its connection and set out to reconnect."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def event_id_of(message: dict[str, Any]) -> str | None:
    """The event id of an ``event`` or ``request`` message (what the history indexes),
    else None."""
    if message.get("type") not in ("event", "request"):
        return None
    event = message.get("event")
    value = event.get("id") if isinstance(event, dict) else None
    return str(value) if value is not None else None


def indexed_events(pairs: Sequence[tuple[int, str]]) -> tuple[tuple[int, uuid.UUID], ...]:
    """``(message id, event id)`` pairs read back from an index, valid ones, oldest first."""
    found = []
    for message_id, event_id in pairs:
        try:
            found.append((int(message_id), uuid.UUID(event_id)))
        except ValueError:
            continue
    return tuple(sorted(found))


def now_ms() -> int:
    """Where a new channel's counter starts: the current time in milliseconds."""
    return int(time.time() * 1000)

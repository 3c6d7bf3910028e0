"""The bus of a single process (the embedded default): publishing is numbering, indexing
and delivering, all in memory."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from tunedeck.events.bus.interface import (
    HISTORY_SIZE,
    History,
    Outgoing,
    event_id_of,
    indexed_events,
    now_ms,
)
from tunedeck.events.bus.local import LocalFanout


class _Channel:
    """An in-process channel's counter and event index (see :class:`History`)."""

    def __init__(self, seed: int) -> None:
        self.head = seed
        self.floor = seed
        self.events: OrderedDict[str, int] = OrderedDict()  # event id -> message id


class InProcessBus(LocalFanout):
    """The bus of a single process: publishing is numbering, indexing and delivering."""

    def __init__(self, *, history_size: int = HISTORY_SIZE) -> None:
        super().__init__()
        self.history_size = history_size
        self._channels: dict[uuid.UUID, _Channel] = {}

    def _channel(self, account_id: uuid.UUID) -> _Channel:
        channel = self._channels.get(account_id)
        if channel is None:
            channel = self._channels[account_id] = _Channel(now_ms())
        return channel

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        channel = self._channel(account_id)
        channel.head += 1
        event_id = event_id_of(message)
        if event_id is not None:
            # A redelivered event moves to its latest id: the index holds it once.
            channel.events.pop(event_id, None)
            channel.events[event_id] = channel.head
            while len(channel.events) > self.history_size:
                _, trimmed = channel.events.popitem(last=False)
                channel.floor = max(channel.floor, trimmed)
        self.deliver(account_id, {**message, "id": channel.head})
        return channel.head

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[int]:
        return [await self.publish(account_id, message) for account_id, message in messages]

    @property
    def connected(self) -> bool:
        return True  # nothing to lose in one process

    @property
    def reconnects(self) -> int:
        return 0

    async def history(self, account_id: uuid.UUID, since: int | None = None) -> History:
        channel = self._channel(account_id)
        events: tuple[tuple[int, uuid.UUID], ...] = ()
        if since is not None:
            events = indexed_events(
                [(mid, eid) for eid, mid in channel.events.items() if mid > since]
            )
        return History(head=channel.head, floor=channel.floor, events=events)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.close_all()

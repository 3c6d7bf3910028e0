"""This process's side of the bus: its subscribers by account, and delivering to them.

Every bus delivers the messages of an account to the subscribers of this process
through a :class:`LocalFanout`: the in-process bus as it publishes, the Redis bus as its
one subscription per process receives them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

# One logger for the whole bus, whichever of its modules logs.
logger = logging.getLogger("tunedeck.events.bus")

QUEUE_SIZE = 1000

Callback = Callable[[dict[str, Any]], None]
"""A local listener: called with each message of its account, in order, synchronously."""


class Subscription:
    """One local subscriber's messages of one account, in publish order.

    Iterate it (``async for message in sub``) or ``await sub.get()``. A subscriber that
    falls more than ``QUEUE_SIZE`` messages behind loses the oldest ones (``dropped``).
    """

    def __init__(self, account_id: uuid.UUID, maxsize: int = QUEUE_SIZE) -> None:
        self.account_id = account_id
        self.dropped = 0
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)

    def _put(self, message: dict[str, Any] | None) -> None:
        while True:
            try:
                self._queue.put_nowait(message)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped += 1

    async def get(self) -> dict[str, Any]:
        message = await self._queue.get()
        if message is None:
            self._queue.put_nowait(None)  # stay closed for later readers
            raise StopAsyncIteration
        return message

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self.get()


class LocalFanout:
    """This process's subscribers by account, and the delivery to them."""

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._listeners: dict[uuid.UUID, list[Callback]] = {}

    def deliver(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        subscribers = self._subscribers.get(account_id, ())
        for subscription in subscribers:
            subscription._put(message)
        listeners = self._listeners.get(account_id, ())
        for callback in tuple(listeners):
            try:
                callback(message)
            except Exception:
                # One listener's bug must not cost the others (or the Redis listener) a message.
                logger.exception("bus listener of account %s failed", account_id)
        return len(subscribers) + len(listeners)

    def subscriber_count(self, account_id: uuid.UUID | None = None) -> int:
        if account_id is not None:
            return len(self._subscribers.get(account_id, ())) + len(
                self._listeners.get(account_id, ())
            )
        return sum(len(s) for s in self._subscribers.values()) + sum(
            len(s) for s in self._listeners.values()
        )

    @asynccontextmanager
    async def subscribe(self, account_id: uuid.UUID) -> AsyncIterator[Subscription]:
        subscription = Subscription(account_id)
        self._subscribers.setdefault(account_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(account_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(account_id, None)

    def listen(self, account_id: uuid.UUID, callback: Callback) -> Callable[[], None]:
        self._listeners.setdefault(account_id, []).append(callback)

        def stop() -> None:
            callbacks = self._listeners.get(account_id, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._listeners.pop(account_id, None)

        return stop

    def close_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._put(None)

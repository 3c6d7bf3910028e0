"""A bounded cache whose entries expire, and single flight: one computation per key at a
time, shared by everyone asking for that key meanwhile (song request matching uses both
so that a chat repeating one ``!sr`` costs Spotify one search)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """At most ``capacity`` entries, each forgotten ``ttl`` seconds after it was stored;
    when full, the least recently used goes first."""

    def __init__(
        self, *, capacity: int, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if capacity < 1 or ttl <= 0:
            raise ValueError("capacity and ttl must be positive")
        self.capacity = capacity
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The live entry for ``key``, if any (it becomes the most recently used)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store ``value`` for ``key``, dropping the least recently used entry if full."""
        self._entries[key] = (self._clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def discard(self, predicate: Callable[[K], bool]) -> None:
        """Forget every entry whose key ``predicate`` holds for."""
        for key in [key for key in self._entries if predicate(key)]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


class SingleFlight(Generic[K, V]):
    """Runs one computation per key at a time: callers asking for a key being computed
    wait for that computation's result (or its exception) instead of starting another.

    The computation runs in a task of its own, so a caller that gives up (cancelled)
    leaves it running for the others."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: K, compute: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """The result of ``compute()`` for ``key``, computed once for concurrent callers."""
        task = self._flights.get(key)
        if task is None:
            task = asyncio.create_task(compute())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._land(key, done))
        return await asyncio.shield(task)

    def _land(self, key: K, task: asyncio.Task[V]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited is not logged as lost

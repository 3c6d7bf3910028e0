"""Single flight: concurrent callers asking for the same key share one call.

The first caller for a key starts the call as a task of its own; callers arriving
while it runs wait for that task instead of starting another; all of them get its
result or its exception. The task is shielded from its callers: one caller giving up
(cancelled, its deadline passed) does not cancel the call the others wait for. Once it
ends the key is free, and the next caller starts a new call; remembering a result
beyond that is the caller's business (a cache), not this one's.

Used wherever one upstream answer serves a crowd: a token refresh per account, the
combined player state per account, the now playing a live client gets on connecting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one call in flight per key; callers of a key in flight share it."""

    def __init__(self) -> None:
        self._calls: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        """Keys with a call in flight."""
        return len(self._calls)

    def in_flight(self, key: K) -> bool:
        return key in self._calls

    async def run(self, key: K, call: Callable[[], Awaitable[V]]) -> V:
        """The outcome of the key's call in flight, or of ``call()`` started now."""
        task = self._calls.get(key)
        if task is None:
            task = asyncio.ensure_future(call())
            self._calls[key] = task
            task.add_done_callback(lambda done: self._ended(key, done))
        # Shielded: one caller going away must not cancel the call the others wait for.
        return await asyncio.shield(task)

    def forget(self, key: K) -> None:
        """Let the next caller of ``key`` start a new call (what is in flight may no
        longer be true); the call in flight still ends for those waiting on it."""
        self._calls.pop(key, None)

    def _ended(self, key: K, task: asyncio.Task[V]) -> None:
        if self._calls.get(key) is task:
            del self._calls[key]

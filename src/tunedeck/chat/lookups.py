"""Requests whose lookup outlasts a chat bot's patience, finished in the background.

Bots give up after a few seconds (Fossabot after 5) and print nothing useful then, so the
chat door answers every ``!sr`` within its budget (``TUNEDECK_CHAT_ANSWER_BUDGET_SECONDS``,
1.5 s): a submission still under way then goes on here, owned by the process rather than
by the request that started it (a bot hanging up cancels nothing), and the door answers
"got it, looking it up". Its outcome is kept for the viewer's next ``!pos``.

A submission is never retried by this owner (a retry could take a request twice); a
failure is logged and kept as the outcome. :meth:`SlowLookups.close` gives the
submissions under way ``grace`` seconds to end when the process stops, then cancels them:
nothing is left running past the runtime that owns it. State is this object's, made once
per process by the runtime; two processes each remember their own viewers' lookups (the
requests themselves are in the database, which every process reads).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUDGET = 1.5
"""Seconds a chat answer waits for a submission before saying it is under way."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A lookup still under way: what the viewer asked for."""

    query: str


@dataclass(frozen=True, slots=True)
class Finished(Generic[T]):
    """A lookup that ended after its answer was given: its outcome, or None when it
    failed (the failure was logged)."""

    query: str
    outcome: T | None


class SlowLookups(Generic[T]):
    """Submissions that outlast ``budget`` seconds, per viewer key; outcomes are kept
    ``keep`` seconds (at most ``capacity`` of them) for the viewer's next question."""

    def __init__(
        self,
        *,
        budget: float = DEFAULT_BUDGET,
        keep: float = 600.0,
        capacity: int = 10_000,
        grace: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget
        self.keep = keep
        self.capacity = capacity
        self.grace = grace
        self._clock = clock
        self._running: dict[Hashable, tuple[str, asyncio.Task[T]]] = {}
        self._finished: OrderedDict[Hashable, tuple[float, Finished[T]]] = OrderedDict()
        self._closing = False

    @property
    def under_way(self) -> int:
        """Lookups continuing in the background now."""
        return len(self._running)

    async def within_budget(self, key: Hashable, query: str, work: Awaitable[T]) -> T | Pending:
        """``work``'s outcome if it ends within the budget; else :class:`Pending`, and it
        goes on (its outcome kept under ``key``). Its failure within the budget is raised."""
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=self.budget)
        if done:
            return task.result()
        if self._closing:
            task.cancel()
            raise asyncio.CancelledError("the process is stopping")
        self._running[key] = (query, task)
        task.add_done_callback(lambda ended: self._ended(key, query, ended))
        return Pending(query)

    def running(self, key: Hashable) -> Pending | None:
        """The viewer's lookup under way, if any (its outcome is not taken)."""
        running = self._running.get(key)
        return Pending(running[0]) if running is not None else None

    def status(self, key: Hashable) -> Pending | Finished[T] | None:
        """The viewer's lookup under way, or the one that ended since their last question
        (told once), or None."""
        running = self._running.get(key)
        if running is not None:
            return Pending(running[0])
        kept = self._finished.pop(key, None)
        if kept is None or self._clock() - kept[0] > self.keep:
            return None
        return kept[1]

    async def settled(self) -> None:
        """Once every lookup under way now has ended (and its outcome is kept)."""
        tasks = [task for _, task in self._running.values()]
        if tasks:
            # Each task's own callback (the outcome kept) was added before this wait's.
            await asyncio.wait(tasks)

    async def close(self) -> None:
        """Let the lookups under way end within ``grace`` seconds, then cancel them."""
        self._closing = True
        tasks = [task for _, task in self._running.values()]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self.grace)
        for task in late:
            task.cancel()
        if late:
            logger.warning("cancelled %d song lookups still under way at shutdown", len(late))
            await asyncio.wait(late, timeout=1.0)

    def _ended(self, key: Hashable, query: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key, (None, None))[1] is task:
            del self._running[key]
        outcome: T | None = None
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            logger.error("a song request looked up in the background failed", exc_info=error)
        else:
            outcome = task.result()
        self._finished[key] = (self._clock(), Finished(query, outcome))
        self._finished.move_to_end(key)
        while len(self._finished) > self.capacity:
            self._finished.popitem(last=False)

"""Supervised background loops: restarted after a crash, stopped without losing work.

The long-running loops of a process (the event relay, pollers, lease renewal, watch
heartbeats) must outlive their own bugs and their dependencies' outages, without
hammering what just failed, and must end with the process cleanly: the item in hand is
finished, nothing is left pending when the event loop closes.

A loop is an async function taking a ``stopping`` event::

    async def relay(stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await handle_one_batch()                  # never interrupted by a graceful stop
            await wait_any(stopping, within=1.0)      # sleeps, but wakes up for the stop

    async with SupervisedTask("relay", relay):
        ...                                           # the loop runs meanwhile

:class:`SupervisedTask` runs it as an asyncio task. If it raises, it is run again after
an exponential delay with jitter (:class:`Backoff`); the delay starts over after a run
that lasted ``reset_after`` seconds, so a loop that fails once a day restarts at once
rather than after the delay of its worst day. If it returns, it is done and is not run
again. :meth:`SupervisedTask.stop` sets ``stopping``, gives the loop ``grace`` seconds
to finish what it holds and return, and only then cancels it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

LoopFunction = Callable[[asyncio.Event], Awaitable[None]]
"""The body of a supervised task: runs until ``stopping`` is set (its argument), then returns."""

# Distinct failures whose traceback was logged, per task; beyond this many the set starts over
# (a loop failing in ever new ways gets its tracebacks logged again, never a growing set).
_SEEN_LIMIT = 256
# How long stop() waits for a cancelled loop to unwind before giving up on it.
_CANCEL_WAIT = 1.0


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: ``initial * factor ** (attempt - 1)``, capped at ``maximum``,
    then lowered at random by up to ``jitter`` (a fraction) of itself.

    The jitter spreads the retries of processes that failed on the same outage (a database
    restart, a Redis failover), which would otherwise come back in lockstep and knock it
    over again. Only part of the delay is random, so that a loop failing at once keeps
    backing off: the delay never falls below ``(1 - jitter)`` of the exponential value.
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if self.factor < 1:
            raise ValueError("backoff factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("backoff jitter is a fraction between 0 and 1")

    def ceiling(self, attempt: int) -> float:
        """The delay before ``attempt`` (1 for the first retry) without jitter."""
        if attempt < 1:
            return 0.0
        try:
            return min(self.maximum, self.initial * self.factor ** (attempt - 1))
        except OverflowError:  # after very many failures
            return self.maximum

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The delay before ``attempt``, jittered; ``rng`` makes it reproducible in tests."""
        ceiling = self.ceiling(attempt)
        draw = (rng or _rng).random()
        return ceiling * (1.0 - self.jitter * draw)


_rng = random.Random()


async def wait_any(*events: asyncio.Event, within: float | None = None) -> bool:
    """Wait until one of ``events`` is set or ``within`` seconds have passed (None: no limit).

    Returns whether an event was set. The loops' way to sleep: a stop (or a wake-up)
    ends the sleep at once instead of after it. Leaves no task behind.
    """
    if any(event.is_set() for event in events):
        return True
    if not events:
        await asyncio.sleep(within or 0)
        return False
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        # Let the cancelled waiters finish now, not when the event loop closes.
        await asyncio.gather(*waiters, return_exceptions=True)
    return bool(done)


class SupervisedTask:
    """One long-running loop, restarted after a crash and stopped cleanly.

    ``restarts`` counts the restarts so far, ``last_failure`` describes the latest crash
    (``"ValueError: boom"``), ``last_delay`` is the delay chosen before the latest restart.
    Each restart is logged (warning) with its cause; the traceback is logged the first
    time a given failure (exception type and the line that raised it) is seen, so a loop
    failing every few seconds for an hour does not bury the log in identical tracebacks.

    ``clock`` and ``rng`` are there for tests: they decide how long a run lasted and how
    the delays are jittered.
    """

    def __init__(
        self,
        name: str,
        run: LoopFunction,
        *,
        backoff: Backoff | None = None,
        reset_after: float = 60.0,
        grace: float = 5.0,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.backoff = backoff or Backoff()
        self.reset_after = reset_after
        self.grace = grace
        self.stopping = asyncio.Event()
        self.restarts = 0
        self.last_failure: str | None = None
        self.last_delay: float | None = None
        self._run = run
        self._log = logger or logging.getLogger(__name__)
        self._clock = clock
        self._rng = rng
        self._task: asyncio.Task[None] | None = None
        self._seen: set[tuple[str, str, int]] = set()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"SupervisedTask({self.name!r}, {state}, restarts={self.restarts})"

    @property
    def running(self) -> bool:
        """Whether the loop is running or waiting to be restarted."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the loop in the background (no-op if it runs already)."""
        if self.running:
            return
        self.stopping.clear()
        self._task = asyncio.create_task(self._supervise(), name=self.name)
        self._task.add_done_callback(self._ended)

    async def stop(self, grace: float | None = None) -> None:
        """Ask the loop to end (``stopping`` is set), wait up to ``grace`` seconds for it to
        return, then cancel it. Returns once the task is finished; never raises the loop's
        errors (they are logged)."""
        task = self._task
        if task is None:
            return
        grace = self.grace if grace is None else grace
        self.stopping.set()
        try:
            await asyncio.wait({task}, timeout=grace)
            if not task.done():
                self._log.warning(
                    "background task %r did not stop within %.1f s; cancelling it",
                    self.name,
                    grace,
                )
                task.cancel()
                await asyncio.wait({task}, timeout=max(grace, _CANCEL_WAIT))
                if not task.done():
                    self._log.error("background task %r ignores cancellation", self.name)
                    return
        except asyncio.CancelledError:
            # Whoever stops us gave up waiting: do not leave the loop running behind them.
            task.cancel()
            raise
        self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _supervise(self) -> None:
        attempt = 0
        while not self.stopping.is_set():
            started = self._clock()
            try:
                await self._run(self.stopping)
            except Exception as exc:
                if self.stopping.is_set():
                    self._log.error(
                        "background task %r failed while stopping: %s",
                        self.name,
                        _describe(exc),
                        exc_info=exc,
                    )
                    return
                lasted = self._clock() - started
                attempt = 1 if lasted >= self.reset_after else attempt + 1
                delay = self.backoff.delay(attempt, self._rng)
                self.restarts += 1
                self.last_failure = _describe(exc)
                self.last_delay = delay
                self._log.warning(
                    "background task %r crashed after %.1f s (%s); restart %d in %.2f s",
                    self.name,
                    lasted,
                    self.last_failure,
                    self.restarts,
                    delay,
                    exc_info=exc if self._first_time(exc) else None,
                    extra={"event": "task_restart", "task": self.name, "restarts": self.restarts},
                )
                if await wait_any(self.stopping, within=delay):
                    return
            else:
                if not self.stopping.is_set():
                    self._log.info("background task %r finished", self.name)
                return

    def _first_time(self, exc: BaseException) -> bool:
        frames = traceback.extract_tb(exc.__traceback__)
        where = (frames[-1].filename, frames[-1].lineno or 0) if frames else ("", 0)
        key = (f"{type(exc).__module__}.{type(exc).__qualname__}", *where)
        if key in self._seen:
            return False
        if len(self._seen) >= _SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(key)
        return True

    def _ended(self, task: asyncio.Task[None]) -> None:
        # Retrieve the outcome so that asyncio never reports it as unretrieved.
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._log.error("background task %r ended: %s", self.name, _describe(exc))


def _describe(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__

"""What the code under test asked ``asyncio.sleep`` for, instead of how long it took.

A test that asserts on elapsed wall-clock time fails on a loaded machine; the delays a
client *asked* for are exact. ``record_sleeps`` wraps ``asyncio.sleep`` for the test:
calls made from modules under ``prefix`` are logged (and may run a hook first, e.g. to
move a simulator's clock while the client waits), then sleep as usual; every other
caller, including servers running in other threads, is passed straight through.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

Hook = Callable[[float], Awaitable[None]]


class SleepLog:
    """The delays requested from ``asyncio.sleep`` by modules under ``prefix``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.delays: list[float] = []
        #: Awaited before each logged sleep, with its delay.
        self.before: Hook | None = None


def record_sleeps(monkeypatch: pytest.MonkeyPatch, prefix: str) -> SleepLog:
    """Log the ``asyncio.sleep`` calls made from modules under ``prefix`` until the test ends."""
    real_sleep = asyncio.sleep
    log = SleepLog(prefix)

    async def sleep(delay: float, result: Any = None) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == prefix or caller.startswith(prefix + "."):
            log.delays.append(delay)
            if log.before is not None:
                await log.before(delay)
        return await real_sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return log

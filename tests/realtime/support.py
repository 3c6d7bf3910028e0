"""Helpers of the real-time tests: waiting for what must happen (never for how long it
takes), and reading what an account's channel carried."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from tunedeck.events.bus import EventBus, Subscription

LIVENESS = 60.0
"""How long something that must happen may take on a loaded machine (never asserted as a
duration: a test only fails when it did not happen at all)."""


async def eventually(
    check: Callable[[], Awaitable[bool]], *, what: str, within: float = LIVENESS
) -> None:
    """Wait until ``check()`` holds, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within} s")
        await asyncio.sleep(0.02)


class Channel:
    """What an account's channel carried since the subscription started (read in the
    background), and waiting for a message that matches."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.subscription:
            self.messages.append(message)
            self._arrived.set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def now_playing(self) -> list[dict[str, Any]]:
        return self.of_type("now_playing")

    def statuses(self) -> list[str]:
        return [m["status"] for m in self.of_type("status")]

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], *, what: str, after: int = 0
    ) -> dict[str, Any]:
        """The first message from index ``after`` on that matches, waiting for it."""
        deadline = time.monotonic() + LIVENESS
        while True:
            for message in self.messages[after:]:
                if match(message):
                    return message
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{what}: never published; got {self.messages!r}")
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                continue

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@asynccontextmanager
async def channel(bus: EventBus, account_id: uuid.UUID) -> AsyncIterator[Channel]:
    """Read the account's channel for the duration of the block."""
    async with bus.subscribe(account_id) as subscription:
        reader = Channel(subscription)
        try:
            yield reader
        finally:
            await reader.close()


def track_uri(message: dict[str, Any]) -> str | None:
    """The uri of what a ``now_playing`` message says is playing (None: nothing)."""
    now_playing = message.get("now_playing")
    if not now_playing or not now_playing.get("track"):
        return None
    uri = now_playing["track"]["uri"]
    assert isinstance(uri, str)
    return uri

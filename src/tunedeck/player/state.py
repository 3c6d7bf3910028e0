"""The combined player state: four Spotify reads in parallel, shared by concurrent callers.

``fetch_state`` asks for now playing, the queue, the devices and the playlists at
once; a part that fails is reported in ``errors`` while the others are returned.
``StateCache`` is a per-account single flight: callers arriving while a fetch is in
flight, or within ``ttl`` seconds of its end, get that fetch's result, so a burst of
reads (dashboards, bots, two doors) costs Spotify four calls. Actions invalidate it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tunedeck.kit.errors import TuneDeckError
from tunedeck.player.errors import map_spotify_error
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.models import Device, Playback, Queue, SimplifiedPlaylist

logger = logging.getLogger(__name__)

PARTS = ("now_playing", "queue", "devices", "playlists")
STATE_PLAYLISTS_LIMIT = 50
"""How many playlists the combined state lists (one Spotify page)."""


@dataclass(frozen=True, slots=True)
class PartError:
    """Why one part of the state is missing (the same code and message as a whole call)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class StateParts:
    """What Spotify said, part by part; a part is None when its fetch failed
    (then ``errors`` names it) or, for ``now_playing``, when nothing is active."""

    now_playing: Playback | None
    queue: Queue | None
    devices: list[Device] | None
    playlists: list[SimplifiedPlaylist] | None
    errors: dict[str, PartError] = field(default_factory=dict)


async def fetch_state(client: SpotifyClient) -> StateParts:
    """The four parts, fetched concurrently; expected failures stay in their part."""
    results: list[Any] = list(
        await asyncio.gather(
            client.playback(),
            client.queue(),
            client.devices(),
            client.my_playlists(limit=STATE_PLAYLISTS_LIMIT),
            return_exceptions=True,
        )
    )
    errors: dict[str, PartError] = {}
    for index, (name, result) in enumerate(zip(PARTS, results, strict=True)):
        if isinstance(result, SpotifyError | TuneDeckError | httpx.HTTPError):
            mapped = map_spotify_error(result)
            errors[name] = PartError(mapped.code, mapped.message)
            results[index] = None
        elif isinstance(result, BaseException):
            # A bug or a cancellation is not a "part unavailable": let it surface.
            raise result
    now_playing, queue, devices, playlists = results
    return StateParts(now_playing, queue, devices, playlists, errors)


class StateCache:
    """Per-account single flight with a short memory (``ttl`` seconds after a fetch ends)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tasks: dict[uuid.UUID, asyncio.Task[StateParts]] = {}
        self._done_at: dict[uuid.UUID, float] = {}

    async def get(
        self, account_id: uuid.UUID, fetch: Callable[[], Awaitable[StateParts]]
    ) -> StateParts:
        """The account's state: the one being fetched, a fresh one, or a new fetch."""
        task = self._tasks.get(account_id)
        if task is None or (task.done() and not self._is_fresh(account_id)):
            task = asyncio.ensure_future(fetch())
            self._tasks[account_id] = task
            self._done_at.pop(account_id, None)
            task.add_done_callback(lambda t: self._finished(account_id, t))
        # Shielded: one caller going away must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    def fresh(self, account_id: uuid.UUID) -> StateParts | None:
        """The last fetched state when it ended less than ``ttl`` ago (no Spotify call)."""
        task = self._tasks.get(account_id)
        if task is None or not task.done() or not self._is_fresh(account_id):
            return None
        if task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    def invalidate(self, account_id: uuid.UUID) -> None:
        """Forget the account's state (after an action changed it)."""
        self._tasks.pop(account_id, None)
        self._done_at.pop(account_id, None)

    def _is_fresh(self, account_id: uuid.UUID) -> bool:
        done_at = self._done_at.get(account_id)
        return done_at is not None and _now() - done_at < self.ttl

    def _finished(self, account_id: uuid.UUID, task: asyncio.Task[StateParts]) -> None:
        if self._tasks.get(account_id) is not task:
            return
        if task.cancelled() or task.exception() is not None:
            # Failures are not remembered: the next caller tries again.
            del self._tasks[account_id]
            return
        self._done_at[account_id] = _now()
        # Drop the entry once stale, so idle accounts do not pile up.
        asyncio.get_running_loop().call_later(self.ttl, self._expire, account_id, task)

    def _expire(self, account_id: uuid.UUID, task: asyncio.Task[StateParts]) -> None:
        if self._tasks.get(account_id) is task and not self._is_fresh(account_id):
            self.invalidate(account_id)


def _now() -> float:
    return asyncio.get_running_loop().time()

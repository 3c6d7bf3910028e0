"""The combined player state: four Spotify reads in parallel, shared by concurrent callers.

``fetch_state`` asks for now playing, the queue, the devices and the playlists at
once; a part that fails is reported in ``errors`` while the others are returned.
``StateCache`` is a per-account single flight: callers arriving while a fetch is in
flight, or within ``ttl`` seconds of its end, get that fetch's result, so a burst of
reads (dashboards, bots, two doors) costs Spotify four calls. Actions invalidate it.

The real-time poller reads now playing every few seconds anyway; it hands each result
to the cache (:meth:`StateCache.put_now_playing`), so that for ``ttl`` seconds after a
poll the state costs three calls instead of four, and :meth:`StateCache.fresh_now_playing`
hands the part out with no call at all (e.g. a live feed's first snapshot).
"""

from __future__ import annotations

import asyncio
import contextvars
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
class KnownPlayback:
    """A now_playing part read already: what it was (None: nothing active) and when
    (event-loop time, when Spotify's answer arrived)."""

    playback: Playback | None
    at: float


# The now_playing part a fetch started by StateCache.get may use instead of asking
# Spotify: set in the fetch task's own context, so it reaches fetch_state without
# changing the fetch callables of the doors.
_known_now_playing: contextvars.ContextVar[KnownPlayback | None] = contextvars.ContextVar(
    "known_now_playing", default=None
)

INVALIDATION_MEMORY = 60.0
"""Seconds an invalidation is remembered: a poll result read before it is refused for
that long (longer than any Spotify call may last, deadline included)."""


@dataclass(frozen=True, slots=True)
class StateParts:
    """What Spotify said, part by part; a part is None when its fetch failed
    (then ``errors`` names it) or, for ``now_playing``, when nothing is active."""

    now_playing: Playback | None
    queue: Queue | None
    devices: list[Device] | None
    playlists: list[SimplifiedPlaylist] | None
    errors: dict[str, PartError] = field(default_factory=dict)


async def fetch_state(client: SpotifyClient, *, known: KnownPlayback | None = None) -> StateParts:
    """The four parts, fetched concurrently; expected failures stay in their part.

    A ``known`` now_playing part (or, in a fetch started by :meth:`StateCache.get`, the
    fresh part a poll left in the cache) is used as it is instead of asking Spotify.
    """
    known = known or _known_now_playing.get()
    results: list[Any] = list(
        await asyncio.gather(
            _given(known.playback) if known is not None else client.playback(),
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


async def _given(playback: Playback | None) -> Playback | None:
    return playback


class StateCache:
    """Per-account single flight with a short memory (``ttl`` seconds after a fetch ends),
    plus the now_playing part of the latest poll for ``ttl`` seconds after it."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tasks: dict[uuid.UUID, asyncio.Task[StateParts]] = {}
        self._done_at: dict[uuid.UUID, float] = {}
        self._polled: dict[uuid.UUID, KnownPlayback] = {}
        self._invalidated_at: dict[uuid.UUID, float] = {}

    async def get(
        self, account_id: uuid.UUID, fetch: Callable[[], Awaitable[StateParts]]
    ) -> StateParts:
        """The account's state: the one being fetched, a fresh one, or a new fetch (which
        reuses a fresh polled now_playing part rather than asking for it again)."""
        task = self._tasks.get(account_id)
        if task is None or (task.done() and not self._is_fresh(account_id)):
            known = self._fresh_polled(account_id)
            task = self._start(fetch, known)
            self._tasks[account_id] = task
            self._done_at.pop(account_id, None)
            task.add_done_callback(lambda t: self._finished(account_id, t, known))
        # Shielded: one caller going away must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    def put_now_playing(
        self, account_id: uuid.UUID, playback: Playback | None, *, read_at: float
    ) -> bool:
        """Keep a now_playing part the poller read (the request left at ``read_at``,
        event-loop time) for ``ttl`` seconds. Refused (False) when an action invalidated
        the account since ``read_at``: the answer may predate the action."""
        invalidated_at = self._invalidated_at.get(account_id)
        if invalidated_at is not None and invalidated_at >= read_at:
            return False
        known = KnownPlayback(playback, _now())
        self._polled[account_id] = known
        # Dropped once stale, so idle accounts do not pile up.
        asyncio.get_running_loop().call_later(self.ttl, self._expire_polled, account_id, known)
        return True

    def fresh_now_playing(self, account_id: uuid.UUID) -> KnownPlayback | None:
        """The newest now_playing part younger than ``ttl``, polled or fetched with the
        state (no Spotify call); None when there is none."""
        candidates = [known for known in (self._fresh_polled(account_id),) if known]
        state = self.fresh(account_id)
        done_at = self._done_at.get(account_id)
        if state is not None and done_at is not None and "now_playing" not in state.errors:
            candidates.append(KnownPlayback(state.now_playing, done_at))
        return max(candidates, key=lambda known: known.at, default=None)

    def fresh(self, account_id: uuid.UUID) -> StateParts | None:
        """The last fetched state when it ended less than ``ttl`` ago (no Spotify call)."""
        task = self._tasks.get(account_id)
        if task is None or not task.done() or not self._is_fresh(account_id):
            return None
        if task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    def invalidate(self, account_id: uuid.UUID) -> None:
        """Forget the account's state (after an action changed it), and refuse poll
        results read before now."""
        self._tasks.pop(account_id, None)
        self._done_at.pop(account_id, None)
        self._polled.pop(account_id, None)
        now = _now()
        self._invalidated_at[account_id] = now
        asyncio.get_running_loop().call_later(
            INVALIDATION_MEMORY, self._forget_invalidation, account_id, now
        )

    def _start(
        self, fetch: Callable[[], Awaitable[StateParts]], known: KnownPlayback | None
    ) -> asyncio.Task[StateParts]:
        async def run() -> StateParts:
            return await fetch()

        context = contextvars.copy_context()
        context.run(_known_now_playing.set, known)
        return asyncio.get_running_loop().create_task(run(), context=context)

    def _fresh_polled(self, account_id: uuid.UUID) -> KnownPlayback | None:
        known = self._polled.get(account_id)
        if known is None or _now() - known.at >= self.ttl:
            return None
        return known

    def _is_fresh(self, account_id: uuid.UUID) -> bool:
        done_at = self._done_at.get(account_id)
        return done_at is not None and _now() - done_at < self.ttl

    def _finished(
        self,
        account_id: uuid.UUID,
        task: asyncio.Task[StateParts],
        known: KnownPlayback | None = None,
    ) -> None:
        if self._tasks.get(account_id) is not task:
            return
        if task.cancelled() or task.exception() is not None:
            # Failures are not remembered: the next caller tries again.
            del self._tasks[account_id]
            return
        # As fresh as its oldest part: a polled now_playing it reused is older.
        self._done_at[account_id] = min(_now(), known.at) if known else _now()
        # Drop the entry once stale, so idle accounts do not pile up.
        asyncio.get_running_loop().call_later(self.ttl, self._expire, account_id, task)

    def _expire(self, account_id: uuid.UUID, task: asyncio.Task[StateParts]) -> None:
        if self._tasks.get(account_id) is task and not self._is_fresh(account_id):
            self._tasks.pop(account_id, None)
            self._done_at.pop(account_id, None)

    def _expire_polled(self, account_id: uuid.UUID, known: KnownPlayback) -> None:
        if self._polled.get(account_id) is known:
            del self._polled[account_id]

    def _forget_invalidation(self, account_id: uuid.UUID, at: float) -> None:
        if self._invalidated_at.get(account_id) == at:
            del self._invalidated_at[account_id]


def _now() -> float:
    return asyncio.get_running_loop().time()

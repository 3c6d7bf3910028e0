"""The combined player state: four Spotify reads in parallel, shared by concurrent callers.

``fetch_state`` asks for now playing, the queue, the devices and the playlists at
once; a part that fails is reported in ``errors`` while the others are returned.
``StateCache`` is a per-account single flight (``kit.single_flight``): callers arriving
while a fetch is in flight, or within ``ttl`` seconds of its end, get that fetch's
result, so a burst of reads (dashboards, bots, two doors) costs Spotify four calls.
Actions invalidate it.

Its now_playing part belongs to the now-playing store (:mod:`.now_playing`): a fresh
reading there (the real-time poller records one every few seconds) is used instead of
asking Spotify, so that for ``ttl`` seconds after a poll the state costs three calls
instead of four; what a fetch reads is recorded there for every other reader.
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
from tunedeck.kit.single_flight import SingleFlight
from tunedeck.player.errors import map_spotify_error
from tunedeck.player.now_playing import NowPlayingStore, Reading
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


async def fetch_state(client: SpotifyClient, *, known: Reading | None = None) -> StateParts:
    """The four parts, fetched concurrently; expected failures stay in their part.
    A ``known`` now_playing part (a fresh reading) is used as it is instead of asking."""
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


StateFetch = Callable[[Reading | None], Awaitable[StateParts]]
"""Fetches an account's state, given a fresh now_playing reading to reuse (or None)."""


@dataclass(frozen=True, slots=True)
class _Kept:
    parts: StateParts
    at: float
    """As fresh as its oldest part (event-loop time): a reading it reused is older."""


class StateCache:
    """Per-account single flight with a short memory (``ttl`` seconds after a fetch
    ends), whose now_playing part is the now-playing store's (``now_playing``)."""

    def __init__(self, now_playing: NowPlayingStore, ttl: float | None = None) -> None:
        self.now_playing = now_playing
        self.ttl = now_playing.ttl if ttl is None else ttl
        self._clock = now_playing.clock  # the readings' clock: their times compare
        self._fetches: SingleFlight[uuid.UUID, StateParts] = SingleFlight()
        self._kept: dict[uuid.UUID, _Kept] = {}

    async def get(self, account_id: uuid.UUID, fetch: StateFetch) -> StateParts:
        """The account's state: a fresh one, the one being fetched, or a new fetch (which
        reuses a fresh now_playing reading rather than asking for it again)."""
        kept = self.fresh(account_id)
        if kept is not None:
            return kept
        return await self._fetches.run(account_id, lambda: self._fetch(account_id, fetch))

    def fresh(self, account_id: uuid.UUID) -> StateParts | None:
        """The last fetched state when it is younger than ``ttl`` (no Spotify call)."""
        kept = self._kept.get(account_id)
        if kept is None or self._clock() - kept.at >= self.ttl:
            return None
        return kept.parts

    def invalidate(self, account_id: uuid.UUID) -> None:
        """Forget the account's state (after an action changed it) and its now playing;
        a fetch in flight still answers its callers but is neither joined nor kept."""
        self._kept.pop(account_id, None)
        self._fetches.forget(account_id)
        self.now_playing.invalidate(account_id)

    async def _fetch(self, account_id: uuid.UUID, fetch: StateFetch) -> StateParts:
        started = self._clock()
        known = self.now_playing.fresh(account_id)
        parts = await fetch(known)
        if self.now_playing.invalidated_since(account_id, started):
            return parts  # an action since it began: may predate it, so not kept
        if known is None and "now_playing" not in parts.errors:
            self.now_playing.record(account_id, parts.now_playing, read_at=started)
        now = self._clock()
        kept = _Kept(parts, min(now, known.at) if known else now)
        self._kept[account_id] = kept
        # Dropped once stale, so idle accounts do not pile up (failures are never kept).
        asyncio.get_running_loop().call_later(self.ttl, self._expire, account_id, kept)
        return parts

    def _expire(self, account_id: uuid.UUID, kept: _Kept) -> None:
        if self._kept.get(account_id) is kept:
            del self._kept[account_id]

"""What plays now on each account, as this process knows it: the one store every reader
and writer of "now playing" goes through.

Two things are known, each with its own rule of truth:

- **readings**: Spotify's answers read in this process (the poller's polls, a state
  fetch, a live client's first read), each true for ``ttl`` seconds after it arrived.
  An action through TuneDeck :meth:`~NowPlayingStore.invalidate` s the account: its
  reading is forgotten, and an answer read before the action (a poll still in flight)
  is refused when it comes back, since it may predate the action;
- **the announcement**: the latest ``now_playing`` message heard on the account's live
  channel (published by whichever process polls the account), handed over by the hub
  while it listens to that channel. The poller publishes every change, so the latest is
  true however old it is, for as long as the channel is listened to.

Readers: :meth:`~NowPlayingStore.fresh` (a reading, no Spotify call: the REST and
GraphQL state reuse it), :meth:`~NowPlayingStore.read` (fresh, else one Spotify read
shared by every caller of the account meanwhile: a live client's first snapshot),
:meth:`~NowPlayingStore.announced`. Observers (:meth:`~NowPlayingStore.observe`) are
told in-process of every reading recorded and every invalidation: the way in of the
pieces that follow what plays (a request feeder, a play recorder) without a Spotify call
of their own.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tunedeck.kit.single_flight import SingleFlight
from tunedeck.spotify.models import Playback

logger = logging.getLogger(__name__)

INVALIDATION_MEMORY = 60.0
"""Seconds an invalidation is remembered: an answer read before it is refused for that
long (longer than any Spotify call may last, deadline included)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One answer of Spotify about what plays: the playback (None: nothing active) and
    when the answer arrived (event-loop time)."""

    playback: Playback | None
    at: float


NowPlayingObserver = Callable[[uuid.UUID, Reading | None], None]
"""Told of each change of an account: its new reading, or None when an action made what
was known untrue (a reading follows with the next poll). Called synchronously by the
writer: it must not block, and hands any work of its own to a task or a queue."""

Announcement = Mapping[str, Any]
"""A ``now_playing`` message as the live channel carried it (wire form: ``now_playing``,
``server_time``, ``id``)."""


class NowPlayingStore:
    """Readings younger than ``ttl`` and the channels' announcements, per account.
    ``clock`` (event-loop time by default) is what readings are timed by."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] | None = None) -> None:
        self.ttl = ttl
        self.clock = clock or _loop_time
        self._readings: dict[uuid.UUID, Reading] = {}
        self._invalidated_at: dict[uuid.UUID, float] = {}
        self._announced: dict[uuid.UUID, Announcement] = {}
        self._reads: SingleFlight[uuid.UUID, Reading] = SingleFlight()
        self._observers: list[NowPlayingObserver] = []

    # -- writers -------------------------------------------------------------------------

    def record(
        self, account_id: uuid.UUID, playback: Playback | None, *, read_at: float
    ) -> Reading | None:
        """Keep an answer of Spotify whose request left at ``read_at`` (event-loop time),
        and tell the observers; the reading kept. Refused (None) when the account was
        invalidated since ``read_at``: the answer may predate the action."""
        if self.invalidated_since(account_id, read_at):
            return None
        reading = Reading(playback, self.clock())
        self._readings[account_id] = reading
        # Dropped once stale, so idle accounts do not pile up.
        asyncio.get_running_loop().call_later(self.ttl, self._expire, account_id, reading)
        self._tell(account_id, reading)
        return reading

    def invalidate(self, account_id: uuid.UUID) -> None:
        """An action may have changed what plays: forget the reading, let no read begun
        before now be shared or kept, and tell the observers."""
        self._readings.pop(account_id, None)
        self._reads.forget(account_id)
        now = self.clock()
        self._invalidated_at[account_id] = now
        asyncio.get_running_loop().call_later(
            INVALIDATION_MEMORY, self._forget_invalidation, account_id, now
        )
        self._tell(account_id, None)

    def announce(self, account_id: uuid.UUID, message: Announcement) -> None:
        """The latest ``now_playing`` heard on the account's channel (the hub's)."""
        self._announced[account_id] = message

    def stop_announcing(self, account_id: uuid.UUID) -> None:
        """The channel is no longer listened to here: its last message may become untrue."""
        self._announced.pop(account_id, None)

    # -- readers -------------------------------------------------------------------------

    def fresh(self, account_id: uuid.UUID) -> Reading | None:
        """The account's reading if younger than ``ttl`` (no Spotify call), else None."""
        reading = self._readings.get(account_id)
        if reading is None or self.clock() - reading.at >= self.ttl:
            return None
        return reading

    async def read(
        self, account_id: uuid.UUID, ask: Callable[[], Awaitable[Playback | None]]
    ) -> Reading:
        """A fresh reading, else ``ask()`` Spotify: one read at a time per account, shared
        by the callers arriving meanwhile, and recorded. Spotify's failure is raised to
        every caller of that read."""
        reading = self.fresh(account_id)
        if reading is not None:
            return reading
        return await self._reads.run(account_id, lambda: self._ask(account_id, ask))

    def announced(self, account_id: uuid.UUID) -> Announcement | None:
        """The latest ``now_playing`` heard on the account's channel while it is listened to."""
        return self._announced.get(account_id)

    def invalidated_since(self, account_id: uuid.UUID, at: float) -> bool:
        """Whether an action invalidated the account at or after ``at`` (event-loop time)."""
        invalidated_at = self._invalidated_at.get(account_id)
        return invalidated_at is not None and invalidated_at >= at

    # -- observers -----------------------------------------------------------------------

    def observe(self, observer: NowPlayingObserver) -> Callable[[], None]:
        """Tell ``observer`` of every change from now on; returns what stops it."""
        self._observers.append(observer)

        def stop() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return stop

    # -- inside --------------------------------------------------------------------------

    async def _ask(
        self, account_id: uuid.UUID, ask: Callable[[], Awaitable[Playback | None]]
    ) -> Reading:
        read_at = self.clock()
        playback = await ask()
        # Refused (an action since it left), it is still what this read found.
        kept = self.record(account_id, playback, read_at=read_at)
        return kept or Reading(playback, self.clock())

    def _tell(self, account_id: uuid.UUID, reading: Reading | None) -> None:
        for observer in list(self._observers):
            try:
                observer(account_id, reading)
            except Exception:
                # An observer's bug must not cost the poller its poll, nor an action its answer.
                logger.exception("a now-playing observer failed")

    def _expire(self, account_id: uuid.UUID, reading: Reading) -> None:
        if self._readings.get(account_id) is reading:
            del self._readings[account_id]

    def _forget_invalidation(self, account_id: uuid.UUID, at: float) -> None:
        if self._invalidated_at.get(account_id) == at:
            del self._invalidated_at[account_id]


def _loop_time() -> float:
    return asyncio.get_running_loop().time()

"""When to poll an account next: the cadence, the end of the track, the burst after a command.

Spotify has no push API, so freshness costs calls. The cadence spends them where they
show: every ``playing`` seconds while music plays, ``paused`` while paused, ``idle``
when nothing is active at all. Two events are worth a poll of their own, at the moment
they should be visible (after aome510/spotify-player):

- the expected **end of the track** (its duration minus the progress, plus a small
  margin): a natural track change is then seen within about a second, not up to a whole
  cadence late;
- a **command sent through TuneDeck**: a short burst of polls (e.g. +0.3 s and +1.5 s
  after the command's event) confirms its effect at once.

The first regular poll after an account's first poll comes after a random part of the
period (:data:`FIRST_PHASE`), which spreads the accounts of a process evenly over the
period, so that polls never come in bursts.

Times are the poller's clock (seconds, monotonic).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from tunedeck.config import Settings
from tunedeck.realtime.changes import Observation

END_POLLS_PER_ITEM = 2
"""End-of-track polls spent on one item: one, and a retry when Spotify had not moved on."""

FIRST_PHASE = (0.1, 1.0)
"""The first regular period of an account is this fraction of a period, drawn at random:
accounts taken together (a process starting, taking over a dead one's share) would
otherwise be polled together forever after, in bursts that make every poll late."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """The polling periods (seconds) and the offsets of the extra polls."""

    playing: float = 3.0
    paused: float = 15.0
    idle: float = 30.0
    end_margin: float = 0.4
    burst: tuple[float, ...] = (0.3, 1.5)

    @classmethod
    def of(cls, settings: Settings) -> Cadence:
        return cls(
            playing=settings.poll_playing_seconds,
            paused=settings.poll_paused_seconds,
            idle=settings.poll_idle_seconds,
            end_margin=settings.poll_track_end_margin_seconds,
            burst=tuple(sorted(settings.poll_burst_seconds)),
        )

    def period(self, observation: Observation) -> float:
        """The regular period after ``observation``."""
        if observation.is_playing:
            return self.playing
        if not observation.device_active:
            return self.idle
        return self.paused

    def track_end(self, observation: Observation) -> float | None:
        """When the playing item should have ended and the next one be visible (None when
        nothing plays, the duration is unknown (an ad), or it should have ended already)."""
        progress, duration = observation.progress_ms, observation.duration_ms
        if not observation.is_playing or progress is None or duration is None:
            return None
        remaining = (duration - progress) / 1000
        if remaining < 0:
            return None
        return observation.at + remaining + self.end_margin

    def next_poll(
        self, observation: Observation, *, end_polls_left: bool = True, phase: float = 1.0
    ) -> float:
        """When to poll after ``observation``: the regular period (times ``phase``), or the
        end of the track if that comes first (and end-of-track polls are left for it)."""
        regular = observation.at + self.period(observation) * phase
        end = self.track_end(observation) if end_polls_left else None
        return regular if end is None else min(regular, end)


class Bursts:
    """The pending burst polls of one account (absolute times, in order)."""

    def __init__(self, offsets: tuple[float, ...]) -> None:
        self.offsets = offsets
        self._times: list[float] = []

    def __len__(self) -> int:
        return len(self._times)

    def command_seen(self, at: float) -> None:
        """A command went through TuneDeck at ``at``: poll at each offset after it."""
        for offset in self.offsets:
            bisect.insort(self._times, at + offset)

    def next(self) -> float | None:
        """The earliest pending burst poll, if any."""
        return self._times[0] if self._times else None

    def polled(self, at: float) -> None:
        """A poll happened at ``at``: the burst polls due by then are served by it."""
        served = bisect.bisect_right(self._times, at)
        del self._times[:served]

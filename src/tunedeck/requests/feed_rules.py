"""What the request feeder reads in two readings of "now playing": pure functions.

A reading is Spotify's answer and when it arrived (event-loop time); progress moves on
between readings while playing, so what matters is the progress *predicted* at a moment
(the reading's progress plus the time since), never the raw figure of an old reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunedeck.player.now_playing import Reading

END_TOLERANCE_MS = 10_000
"""A request whose playhead was seen this close to its end, or closer, when something else
came on has been played (the last poll before a track ends comes up to a cadence early)."""

RESTART_TOLERANCE_MS = 2_000
"""A playhead this far behind its predicted place went back (a restart, or the player
stopping at the start of the item it ended on), not just drifted."""


@dataclass(frozen=True, slots=True)
class Seen:
    """What a reading shows: the item's uri (None: nothing, or an ad), whether it plays,
    its progress and duration (ms)."""

    uri: str | None
    is_playing: bool
    progress_ms: int | None
    duration_ms: int | None
    context_uri: str | None
    device_active: bool

    @classmethod
    def of(cls, reading: Reading | None) -> Seen:
        playback = reading.playback if reading is not None else None
        if playback is None:
            return cls(None, False, None, None, None, False)
        item = playback.item
        return cls(
            uri=item.uri if item is not None else None,
            is_playing=playback.is_playing,
            progress_ms=playback.progress_ms,
            duration_ms=item.duration_ms if item is not None else None,
            context_uri=playback.context.uri if playback.context is not None else None,
            device_active=playback.device is not None,
        )


def progress_at(reading: Reading, at: float) -> int | None:
    """Where the reading's playhead should be at ``at``, never past the item's end."""
    seen = Seen.of(reading)
    if seen.progress_ms is None:
        return None
    progress = seen.progress_ms
    if seen.is_playing:
        progress += max(0, round((at - reading.at) * 1000))
    return progress if seen.duration_ms is None else min(progress, seen.duration_ms)


def remaining_seconds(reading: Reading, at: float) -> float | None:
    """Seconds left of the playing item at ``at`` (None: nothing plays, or no duration)."""
    seen = Seen.of(reading)
    progress = progress_at(reading, at)
    if not seen.is_playing or progress is None or seen.duration_ms is None:
        return None
    return max(0.0, (seen.duration_ms - progress) / 1000)


def went_back(previous: Reading | None, reading: Reading) -> bool:
    """Whether the same item is further back than the previous reading predicts."""
    if previous is None or Seen.of(previous).uri != Seen.of(reading).uri:
        return False
    predicted = progress_at(previous, reading.at)
    now = Seen.of(reading).progress_ms
    return predicted is not None and now is not None and now + RESTART_TOLERANCE_MS < predicted


def near_end(furthest_ms: int | None, duration_ms: int) -> bool:
    """Whether a playhead that went as far as ``furthest_ms`` played the item through."""
    return furthest_ms is not None and furthest_ms >= duration_ms - END_TOLERANCE_MS


def item_changed(previous: Reading | None, reading: Reading) -> bool:
    """Whether another item (or nothing) plays than in the previous reading."""
    return previous is not None and Seen.of(previous).uri != Seen.of(reading).uri

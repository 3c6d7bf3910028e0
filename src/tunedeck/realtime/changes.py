"""What changed between two polls of one account: the decision to publish ``now_playing``.

A poll's answer is reduced to an :class:`Observation`: the fields clients are shown and
when they were read. :func:`changes` compares two of them and names what differs: the
item (a track, an episode, an ad), play/pause, a seek, the device, the volume, shuffle,
repeat, the context. Progress is not compared as such (it moves all the time): it is
*predicted* from the previous poll (its progress plus the time since, when playing) and
only a position off that prediction by more than a tolerance counts, as a seek.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tunedeck.spotify.models import Playback


class Change(StrEnum):
    """A reason to publish a new ``now_playing`` snapshot."""

    FIRST = "first"  # the first poll of the account by this poller
    ITEM = "item"  # another track or episode, an ad, or nothing playing any more
    PLAYING = "playing"  # play / pause
    SEEK = "seek"
    DEVICE = "device"
    VOLUME = "volume"
    SHUFFLE = "shuffle"
    REPEAT = "repeat"
    CONTEXT = "context"


@dataclass(frozen=True, slots=True)
class Observation:
    """One poll's answer (``playback`` None: nothing active, Spotify's 204) and ``at``,
    when it arrived (the poller's clock, seconds)."""

    playback: Playback | None
    at: float

    @property
    def item(self) -> tuple[str | None, str]:
        """What plays: its uri (None for an ad or nothing) and its kind."""
        playback = self.playback
        if playback is None:
            return None, "nothing"
        uri = playback.item.uri if playback.item is not None else None
        return uri, playback.currently_playing_type

    @property
    def is_playing(self) -> bool:
        return self.playback is not None and self.playback.is_playing

    @property
    def progress_ms(self) -> int | None:
        return self.playback.progress_ms if self.playback is not None else None

    @property
    def duration_ms(self) -> int | None:
        playback = self.playback
        if playback is None or playback.item is None:
            return None
        return playback.item.duration_ms

    @property
    def device(self) -> tuple[str | None, str | None, bool]:
        """The active device as clients see it: id, name, private session."""
        device = self.playback.device if self.playback is not None else None
        if device is None:
            return None, None, False
        return device.id, device.name, device.is_private_session

    @property
    def volume_percent(self) -> int | None:
        device = self.playback.device if self.playback is not None else None
        return device.volume_percent if device is not None else None

    @property
    def device_active(self) -> bool:
        """Whether a device is active (Spotify names one in the playback)."""
        return self.playback is not None and self.playback.device is not None

    def predicted_progress_ms(self, at: float) -> int | None:
        """Where the playhead should be at ``at`` if nothing happened since this poll."""
        progress = self.progress_ms
        if progress is None:
            return None
        if not self.is_playing:
            return progress
        return progress + round((at - self.at) * 1000)


def changes(
    before: Observation | None, after: Observation, *, seek_tolerance_ms: int
) -> frozenset[Change]:
    """What differs from ``before`` to ``after`` that clients should be told about."""
    if before is None:
        return frozenset({Change.FIRST})
    found: set[Change] = set()
    if before.item != after.item:
        found.add(Change.ITEM)
    if before.is_playing != after.is_playing:
        found.add(Change.PLAYING)
    if before.device != after.device:
        found.add(Change.DEVICE)
    if before.volume_percent != after.volume_percent:
        found.add(Change.VOLUME)
    if before.playback is not None and after.playback is not None:
        if before.playback.shuffle_state != after.playback.shuffle_state:
            found.add(Change.SHUFFLE)
        if before.playback.repeat_state != after.playback.repeat_state:
            found.add(Change.REPEAT)
        if _context(before) != _context(after):
            found.add(Change.CONTEXT)
    if Change.ITEM not in found and _seeked(before, after, seek_tolerance_ms):
        found.add(Change.SEEK)
    return frozenset(found)


def _context(observation: Observation) -> str | None:
    playback = observation.playback
    if playback is None or playback.context is None:
        return None
    return playback.context.uri


def _seeked(before: Observation, after: Observation, tolerance_ms: int) -> bool:
    predicted = before.predicted_progress_ms(after.at)
    actual = after.progress_ms
    if predicted is None or actual is None:
        return predicted != actual
    return abs(actual - predicted) > tolerance_ms

"""How readings of the player become plays: pure decisions, no I/O.

A reading (what the poller read) is reduced to a :class:`Seen`; the open play of the
account, as last written, is a :class:`Current`. :func:`decide` compares them and says
what to do: nothing (the track plays on: nothing is written), update the open play (a
pause, a resume, a seek: the playhead moved off its prediction), close it (nothing plays
any more), or close it and open another (another item, or the same one played again
after it reached its end).

The playhead is *predicted* from the last reading (its progress, plus the time since
when playing), as the poller does to notice seeks. Where the item ended between two
readings is read from the next item's progress (it started ``progress`` ms before it was
read). A gap in observation (longer than ``gap``) makes any end an estimate, and its
reason unknown: what happened meanwhile was not seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from tunedeck.spotify.models import Playback

END_TOLERANCE_MS = 3000
"""A play whose predicted playhead came this close to its duration reached its end."""


class EndReason(StrEnum):
    NATURAL = "natural"
    SKIPPED = "skipped"
    PREVIOUS = "previous"
    REPLACED = "replaced"
    STOPPED = "stopped"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Item:
    """What a play keeps of its item, as it was when it played."""

    uri: str | None
    type: str  # track, episode, ad, local
    name: str
    artists: tuple[str, ...]
    album: str | None
    duration_ms: int | None
    art_url: str | None


@dataclass(frozen=True, slots=True)
class Seen:
    """One reading of something playing (or paused), read at ``at`` (wall clock)."""

    item: Item
    is_playing: bool
    progress_ms: int
    context_uri: str | None
    context_type: str | None
    at: datetime

    @property
    def key(self) -> tuple[str | None, str]:
        return self.item.uri, self.item.type


@dataclass(frozen=True, slots=True)
class Current:
    """The open play of an account: which play, its item and where its playhead was."""

    play_id: uuid.UUID
    started_at: datetime
    item_uri: str | None
    item_type: str
    duration_ms: int | None
    context_uri: str | None
    is_playing: bool
    progress_ms: int
    seen_at: datetime
    listened_ms: int
    stream_id: uuid.UUID | None

    @property
    def key(self) -> tuple[str | None, str]:
        return self.item_uri, self.item_type

    def predicted_ms(self, at: datetime) -> int:
        """Where the playhead should be at ``at`` if nothing happened since it was seen."""
        if not self.is_playing:
            return self.progress_ms
        return self.progress_ms + _ms(at - self.seen_at)

    def remaining_ms(self) -> int | None:
        if self.duration_ms is None:
            return None
        return max(0, self.duration_ms - self.progress_ms)

    def reached_end(self, at: datetime) -> bool:
        return (
            self.is_playing
            and self.duration_ms is not None
            and self.predicted_ms(at) >= self.duration_ms - END_TOLERANCE_MS
        )


@dataclass(frozen=True, slots=True)
class Ending:
    """How the open play ends: when, whether that is an estimate, and what is known of
    why (``NATURAL``, ``STOPPED`` or ``UNKNOWN`` are certain; ``SKIPPED`` means "moved
    on before its end": a command through TuneDeck may say more)."""

    ended_at: datetime
    estimated: bool
    reason: EndReason
    listened_ms: int


@dataclass(frozen=True, slots=True)
class Decision:
    """What a reading asks for. ``update``: the open play continues, with this state
    written (None: nothing to write); ``end``: it ends so; ``start``: a new play of the
    reading's item starts at that time."""

    update: Current | None = None
    end: Ending | None = None
    start: datetime | None = None
    keep: Current | None = None
    """The open play as it continues in memory (written or not)."""


NOTHING = Decision()


def seen_of(playback: Playback | None, at: datetime) -> Seen | None:
    """The reading as a play sees it; None when nothing is known to play (no active
    device, a private session, nothing loaded)."""
    if playback is None or (playback.device is None and playback.item is None):
        return None
    kind = playback.currently_playing_type
    if playback.item is None and kind != "ad":
        return None
    progress = playback.progress_ms or 0
    context = playback.context
    return Seen(
        item=_item(playback),
        is_playing=playback.is_playing,
        progress_ms=progress,
        context_uri=context.uri if context is not None else None,
        context_type=context.type if context is not None else None,
        at=at,
    )


def _item(playback: Playback) -> Item:
    item = playback.item
    if item is None:
        return Item(None, "ad", "Advertisement", (), None, None, None)
    is_local = bool(getattr(item, "is_local", False))
    return Item(
        uri=item.uri,
        type="local" if is_local else item.type,
        name=item.name,
        artists=tuple(item.artist_names),
        album=item.album_name,
        duration_ms=item.duration_ms,
        art_url=item.image_url(),
    )


def decide(
    current: Current | None,
    seen: Seen | None,
    now: datetime,
    *,
    tolerance_ms: int,
    gap: timedelta,
) -> Decision:
    """What ``seen`` (read at ``now``; None: nothing plays) means for the open play
    ``current`` (module doc)."""
    if current is None:
        if seen is None:
            return NOTHING
        return Decision(start=started_at(seen))
    if seen is None:
        return Decision(end=stopped_at(current, now, gap=gap))
    if seen.key != current.key:
        return _moved_on(current, seen, gap)
    if _played_again(current, seen, tolerance_ms):
        assert current.duration_ms is not None
        end_at = current.seen_at + _delta(current.remaining_ms() or 0)
        ending = Ending(
            min(end_at, seen.at), False, EndReason.NATURAL, _final_listened(current, end_at)
        )
        return Decision(end=ending, start=max(started_at(seen), ending.ended_at))
    return _continued(current, seen, tolerance_ms, gap)


def started_at(seen: Seen) -> datetime:
    """When the item read began playing, as its progress tells."""
    return seen.at - _delta(seen.progress_ms)


def stopped_at(current: Current, now: datetime, *, gap: timedelta) -> Ending:
    """Nothing plays at ``now`` any more (or nobody follows the account): how the open
    play ended."""
    remaining = current.remaining_ms()
    unobserved = now - current.seen_at > gap
    if current.reached_end(now) and remaining is not None:
        end_at = current.seen_at + _delta(remaining)
        reason = EndReason.UNKNOWN if unobserved else EndReason.NATURAL
        return Ending(end_at, unobserved, reason, _final_listened(current, end_at))
    if unobserved:
        # Not seen ending: the last time it was seen is all that is known.
        return Ending(current.seen_at, True, EndReason.UNKNOWN, current.listened_ms)
    return Ending(now, False, EndReason.STOPPED, _final_listened(current, now))


def _moved_on(current: Current, seen: Seen, gap: timedelta) -> Decision:
    boundary = min(max(started_at(seen), current.seen_at), seen.at)
    unobserved = seen.at - current.seen_at > gap
    remaining = current.remaining_ms()
    if current.reached_end(boundary) and remaining is not None:
        end_at = min(boundary, current.seen_at + _delta(remaining))
        reason = EndReason.NATURAL
    else:
        end_at = boundary
        reason = EndReason.SKIPPED
    if unobserved:
        reason = EndReason.UNKNOWN
    ending = Ending(end_at, unobserved, reason, _final_listened(current, end_at))
    return Decision(end=ending, start=max(started_at(seen), end_at))


def plays_on(
    current: Current, playback: Playback | None, at: datetime, *, tolerance_ms: int, gap: timedelta
) -> Current | None:
    """The open play as it continues when ``playback`` (read at ``at``) says it simply plays
    on: the same item from the same context, playing before and now, the playhead where it
    was predicted, no gap since. None: anything else, for :func:`decide` to judge.

    The poller's path for nearly every reading: it compares the reading's raw fields with
    the open play and builds nothing else; what it returns equals what :func:`decide`
    keeps for such a reading (nothing is written for it either way)."""
    if playback is None or not (playback.is_playing and current.is_playing):
        return None
    item = playback.item
    if item is None or item.uri != current.item_uri:
        return None
    if ("local" if getattr(item, "is_local", False) else item.type) != current.item_type:
        return None
    context = playback.context
    if (context.uri if context is not None else None) != current.context_uri:
        return None
    elapsed = at - current.seen_at
    progress = playback.progress_ms or 0
    if elapsed > gap or abs(progress - current.predicted_ms(at)) > tolerance_ms:
        return None
    heard = min(max(0, progress - current.progress_ms), _ms(elapsed))
    return Current(
        current.play_id,
        current.started_at,
        current.item_uri,
        current.item_type,
        current.duration_ms,
        current.context_uri,
        True,
        progress,
        at,
        current.listened_ms + heard,
        current.stream_id,
    )


def _played_again(current: Current, seen: Seen, tolerance_ms: int) -> bool:
    """The same item, back near its start after its end was reached: played again."""
    if current.duration_ms is None or not current.reached_end(seen.at):
        return False
    return (
        seen.progress_ms < current.predicted_ms(seen.at) - current.duration_ms // 2 - tolerance_ms
    )


def _continued(current: Current, seen: Seen, tolerance_ms: int, gap: timedelta) -> Decision:
    elapsed = _ms(seen.at - current.seen_at)
    seeked = abs(seen.progress_ms - current.predicted_ms(seen.at)) > tolerance_ms
    if seeked and current.is_playing and seen.is_playing:
        heard = elapsed  # it played all along, from elsewhere in the track
    else:
        heard = min(max(0, seen.progress_ms - current.progress_ms), elapsed)
    kept = replace(
        current,
        is_playing=seen.is_playing,
        progress_ms=seen.progress_ms,
        seen_at=seen.at,
        listened_ms=current.listened_ms + heard,
        context_uri=seen.context_uri,
    )
    changed = seeked or seen.is_playing != current.is_playing or seen.at - current.seen_at > gap
    return Decision(update=kept if changed else None, keep=kept)


def _final_listened(current: Current, end_at: datetime) -> int:
    if not current.is_playing:
        return current.listened_ms
    heard = max(0, _ms(end_at - current.seen_at))
    remaining = current.remaining_ms()
    if remaining is not None:
        heard = min(heard, remaining)
    return current.listened_ms + heard


def _ms(delta: timedelta) -> int:
    return round(delta.total_seconds() * 1000)


def _delta(ms: int) -> timedelta:
    return timedelta(milliseconds=ms)

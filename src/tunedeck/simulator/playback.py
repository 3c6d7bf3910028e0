"""The playback engine of one user: a pure state machine driven by a clock reading.

Progress is never ticked by a background task: it is computed from the time
playback last changed, and ``settle(now)`` catches up with everything that has
happened since (tracks ending, the queue being consumed, the context wrapping).
Every method takes ``now`` (seconds, from the simulator's clock).

An ad break is an item of its own (``AD_URI``): it plays, pauses and moves between
devices like any item, but nothing may skip, seek or replace it; when it ends, the item
it interrupted plays on from where it was.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tunedeck.simulator.specs import RepeatMode

#: ``previous`` within this many ms of a track's start goes to the previous track.
PREVIOUS_RESTARTS_AFTER_MS = 3000
#: The queue endpoint shows at most this many upcoming items.
QUEUE_VIEW_LIMIT = 20
#: Safety bound on how many track changes one ``settle`` may apply.
_MAX_STEPS = 100_000
#: What ``track_uri`` holds while an ad break plays.
AD_URI = "spotify:ad:break"


class PlayerRefusal(Exception):  # noqa: N818 - a refusal, not a crash
    """A command the player cannot carry out; ``reason`` is Spotify's player error reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Player:
    """One user's playback: device, current item, context, queue, shuffle, repeat."""

    duration_of: Callable[[str], int]
    rng: random.Random
    device_id: str | None = None
    track_uri: str | None = None
    is_playing: bool = False
    #: Progress measured at ``anchor`` (clock seconds); current progress derives from both.
    progress_at_anchor: int = 0
    anchor: float = 0.0
    #: When the state last changed (play, pause, skip, seek, new track...), clock seconds.
    changed_at: float = 0.0
    context_uri: str | None = None
    context: list[str] = field(default_factory=list)
    #: Play order over ``context`` indices (identity unless shuffled).
    order: list[int] = field(default_factory=list)
    #: Position in ``order`` of the context item playing, or played before the queue took over.
    order_pos: int = -1
    from_queue: bool = False
    queue: deque[str] = field(default_factory=deque)
    shuffle: bool = False
    repeat: RepeatMode = "off"
    #: Length of the ad break playing (``track_uri`` is then ``AD_URI``), in ms.
    ad_ms: int = 0
    #: The item an ad break interrupted and its progress: it plays on when the ad ends.
    interrupted: tuple[str, int] | None = None

    # -- reading ---------------------------------------------------------------

    @property
    def in_ad(self) -> bool:
        """Whether an ad break is playing (or paused) now."""
        return self.interrupted is not None

    def progress_ms(self, now: float) -> int:
        """Progress into the current item (or ad) at ``now`` (call ``settle`` first)."""
        if self.track_uri is None:
            return 0
        if not self.is_playing:
            return self.progress_at_anchor
        elapsed = self.progress_at_anchor + int((now - self.anchor) * 1000)
        return min(elapsed, self._duration(self.track_uri))

    def item_progress(self, now: float) -> tuple[str | None, int]:
        """The item (never the ad) and its progress: during an ad, the interrupted one."""
        if self.interrupted is not None:
            return self.interrupted
        return self.track_uri, self.progress_ms(now)

    def upcoming(self, limit: int = QUEUE_VIEW_LIMIT) -> list[str]:
        """What plays next: user-queued items first, then the rest of the context."""
        items = list(self.queue)[:limit]
        if self.context and len(items) < limit:
            positions = range(self.order_pos + 1, len(self.order))
            items.extend(self.context[self.order[p]] for p in positions[: limit - len(items)])
            if self.repeat == "context" and len(items) < limit:
                wrapped = range(0, self.order_pos + 1)
                items.extend(self.context[self.order[p]] for p in wrapped[: limit - len(items)])
        return items

    def has_next(self) -> bool:
        """Whether ``next`` has somewhere to go (never during an ad)."""
        if self.in_ad:
            return False
        return bool(self.queue) or (
            bool(self.context)
            and (self.order_pos + 1 < len(self.order) or self.repeat == "context")
        )

    def has_previous(self, now: float) -> bool:
        """Whether ``previous`` has somewhere to go (a restart counts; never during an ad)."""
        if self.track_uri is None or self.in_ad:
            return False
        if self.progress_ms(now) >= PREVIOUS_RESTARTS_AFTER_MS or self.from_queue:
            return True
        return self.order_pos > 0 or (self.repeat == "context" and bool(self.context))

    # -- the clock -------------------------------------------------------------

    def settle(self, now: float) -> None:
        """Apply every track end that happened up to ``now``."""
        for _ in range(_MAX_STEPS):
            if not self.is_playing or self.track_uri is None:
                return
            duration = self._duration(self.track_uri)
            elapsed = self.progress_at_anchor + (now - self.anchor) * 1000
            if elapsed < duration:
                return
            ended_at = self.anchor + (duration - self.progress_at_anchor) / 1000
            if self.in_ad:
                self._resume_interrupted(ended_at)
            else:
                self._advance(ended_at, natural=True)
        self._restart_current(now)

    # -- commands --------------------------------------------------------------

    def load(
        self,
        now: float,
        uris: list[str],
        *,
        context_uri: str | None,
        start: int = 0,
        position_ms: int = 0,
    ) -> None:
        """Start playing ``uris`` (a context's items, or a bare list) from index ``start``."""
        self.settle(now)
        self._refuse_during_ad()
        self.context_uri = context_uri
        self.context = list(uris)
        self.order = list(range(len(uris)))
        if self.shuffle:
            self._shuffle_order(first=start)
            self.order_pos = 0
        else:
            self.order_pos = start
        self.from_queue = False
        self.is_playing = True
        self._set_track(self.context[start], now, position_ms=0)
        if position_ms:
            self.seek(now, position_ms)

    def resume(self, now: float) -> None:
        """Resume the current item; a no-op when already playing."""
        self.settle(now)
        if self.track_uri is None:
            raise PlayerRefusal("NO_SPECIFIC_TRACK", "Player command failed: Nothing to play")
        if not self.is_playing:
            self.is_playing = True
            self.anchor = now
            self.changed_at = now

    def pause(self, now: float) -> None:
        """Pause; refused when already paused."""
        self.settle(now)
        if not self.is_playing:
            raise PlayerRefusal("ALREADY_PAUSED", "Player command failed: Restriction violated")
        self.progress_at_anchor = self.progress_ms(now)
        self.anchor = now
        self.is_playing = False
        self.changed_at = now

    def next(self, now: float) -> None:
        """Skip to the next item (queue first, then context); starts playing."""
        self.settle(now)
        self._refuse_during_ad()
        if not self.has_next():
            raise PlayerRefusal("NO_NEXT_TRACK", "Player command failed: Restriction violated")
        self.is_playing = True
        self._advance(now, natural=False)

    def previous(self, now: float) -> None:
        """Restart the item, or go to the previous one within the first 3 seconds."""
        self.settle(now)
        self._refuse_during_ad()
        if self.track_uri is None:
            raise PlayerRefusal("NO_PREV_TRACK", "Player command failed: Restriction violated")
        if self.progress_ms(now) >= PREVIOUS_RESTARTS_AFTER_MS:
            self._set_track(self.track_uri, now)
            return
        if self.from_queue and self.context:
            self.from_queue = False
        elif self.order_pos > 0:
            self.order_pos -= 1
        elif self.repeat == "context" and self.context:
            self.order_pos = len(self.order) - 1
        else:
            raise PlayerRefusal("NO_PREV_TRACK", "Player command failed: Restriction violated")
        self.is_playing = True
        self._set_track(self.context[self.order[self.order_pos]], now)

    def seek(self, now: float, position_ms: int) -> None:
        """Jump within the current item; beyond its end, move on as if it had ended."""
        self.settle(now)
        self._refuse_during_ad()
        if self.track_uri is None:
            raise PlayerRefusal("NO_SPECIFIC_TRACK", "Player command failed: Nothing to seek")
        if position_ms >= self.duration_of(self.track_uri):
            self._advance(now, natural=False)
            return
        self.progress_at_anchor = position_ms
        self.anchor = now
        self.changed_at = now

    def set_shuffle(self, now: float, state: bool) -> None:
        """Turn shuffle on (the rest of the context in random order) or off."""
        self.settle(now)
        if state == self.shuffle:
            return
        current = self.order[self.order_pos] if 0 <= self.order_pos < len(self.order) else 0
        self.shuffle = state
        if state:
            self._shuffle_order(first=current)
            self.order_pos = 0 if self.order else -1
        else:
            self.order = list(range(len(self.context)))
            self.order_pos = current if self.context else -1
        self.changed_at = now

    def set_repeat(self, now: float, mode: RepeatMode) -> None:
        """Set the repeat mode: off, context or track."""
        self.settle(now)
        self.repeat = mode
        self.changed_at = now

    def add_to_queue(self, now: float, uri: str) -> None:
        """Append an item to the user queue (it plays before the rest of the context)."""
        self.settle(now)
        self.queue.append(uri)

    def transfer(self, now: float, device_id: str, play: bool | None) -> None:
        """Move playback to ``device_id``; ``play`` True starts it, otherwise state is kept."""
        self.settle(now)
        self.progress_at_anchor = self.progress_ms(now)
        self.anchor = now
        self.device_id = device_id
        if play and self.track_uri is not None:
            self.is_playing = True
        self.changed_at = now

    def start_ad(self, now: float, duration_ms: int) -> None:
        """Interrupt the current item with an ad break of ``duration_ms``; it plays at once."""
        self.settle(now)
        if self.in_ad:
            raise PlayerRefusal("UNKNOWN", "An ad break is already playing")
        if self.track_uri is None:
            raise PlayerRefusal("NO_SPECIFIC_TRACK", "Nothing to interrupt with an ad break")
        self.interrupted = (self.track_uri, self.progress_ms(now))
        self.ad_ms = duration_ms
        self.is_playing = True
        self._set_track(AD_URI, now)

    def end_ad(self, now: float) -> None:
        """End the ad break now (if one plays): the interrupted item plays on."""
        self.settle(now)
        if self.in_ad:
            self._resume_interrupted(now)

    # -- internals -------------------------------------------------------------

    def _duration(self, uri: str) -> int:
        return self.ad_ms if uri == AD_URI else self.duration_of(uri)

    def _refuse_during_ad(self) -> None:
        if self.in_ad:
            raise PlayerRefusal("UNKNOWN", "Player command failed: Restriction violated")

    def _resume_interrupted(self, at: float) -> None:
        assert self.interrupted is not None
        uri, progress = self.interrupted
        self.interrupted = None
        self.ad_ms = 0
        self._set_track(uri, at, position_ms=progress)

    def _advance(self, at: float, *, natural: bool) -> None:
        """Move to what follows the current item (at clock time ``at``)."""
        if natural and self.repeat == "track" and self.track_uri is not None:
            self._set_track(self.track_uri, at)
            return
        if self.queue:
            self.from_queue = True
            self._set_track(self.queue.popleft(), at)
            return
        self.from_queue = False
        if self.context and self.order_pos + 1 < len(self.order):
            self.order_pos += 1
        elif self.context and self.repeat == "context":
            self.order_pos = 0
        else:
            # End of the context with repeat off: back to its start, paused.
            self.is_playing = False
            if self.context:
                self.order_pos = 0
                self._set_track(self.context[self.order[0]], at)
            else:
                self.progress_at_anchor = 0
                self.anchor = at
                self.changed_at = at
            return
        self._set_track(self.context[self.order[self.order_pos]], at)

    def _set_track(self, uri: str, at: float, *, position_ms: int = 0) -> None:
        self.track_uri = uri
        self.progress_at_anchor = position_ms
        self.anchor = at
        self.changed_at = at

    def _restart_current(self, now: float) -> None:
        self.progress_at_anchor = 0
        self.anchor = now
        self.changed_at = now

    def _shuffle_order(self, *, first: int) -> None:
        rest = [i for i in range(len(self.context)) if i != first]
        self.rng.shuffle(rest)
        self.order = [first, *rest] if self.context else []

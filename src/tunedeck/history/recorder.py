"""The play recorder: turns what the poller reads into plays, at no Spotify call of its own.

It observes the process's now-playing store (``player.now_playing``), and keeps only the
readings of the accounts this process polls (``follows``): those are the poller's, the
one reader of each account at a time, so two processes never build plays of one account
from two sets of readings.

Cheap on the poller's path: a reading's raw fields are compared in memory with the
account's open play (:func:`~tunedeck.history.tracking.plays_on`, then
:func:`~tunedeck.history.tracking.decide`) and, when the track simply plays on, nothing
else happens. Anything else (another item, a pause, a seek, the first reading of an
account here) goes to the account's own queue, worked by a task of its own (at most
``WRITERS`` at once), which writes in one unit of work and publishes a ``play`` message
when a play starts or ends.

The database holds the truth between processes: the first reading of an account here
loads its open play (a restart, a takeover), and a play continues when the same item
still plays where it should. Closing deletes the ``open_plays`` row only if it is still
the one this process knew; opening inserts it, refused when another process opened one
first: either way the state is loaded again and the reading decided anew.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from tunedeck.config import Settings
from tunedeck.events.bus import BusUnavailable, EventBus
from tunedeck.events.types import EventType
from tunedeck.history import repository
from tunedeck.history.models import Play
from tunedeck.history.schemas import PlayOut
from tunedeck.history.tracking import (
    Current,
    Decision,
    Ending,
    EndReason,
    Seen,
    decide,
    plays_on,
    seen_of,
)
from tunedeck.kit.db import utcnow
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.now_playing import NowPlayingStore, Reading
from tunedeck.realtime.messages import PlayChange

logger = logging.getLogger(__name__)

ENDING_COMMANDS = (
    EventType.SKIP.value,
    EventType.PREVIOUS.value,
    EventType.PLAY.value,
    EventType.PLAYLIST.value,
)
REASON_OF_COMMAND = {
    EventType.SKIP.value: EndReason.SKIPPED,
    EventType.PREVIOUS.value: EndReason.PREVIOUS,
    EventType.PLAY.value: EndReason.REPLACED,
    EventType.PLAYLIST.value: EndReason.REPLACED,
}
COMMAND_SLACK = timedelta(seconds=5)
"""How long before the last reading a command may have been sent and still end the play
(its event is recorded once Spotify answered, the next reading may come later)."""
WRITERS = 4
"""Accounts whose readings are written at once. A process that takes many accounts at
start reads each one's open play and opens a play for most: unbounded, those units of
work took every pooled connection and the poller's own (leases, tokens) waited behind
them. A reading keeps the time it was read at, so waiting here changes nothing written."""
QUEUE_MEMORY = timedelta(hours=3)
"""How long a track queued through TuneDeck is taken as coming from the queue."""


@dataclass
class _Account:
    """What this process knows of an account's open play."""

    loaded: bool = False
    current: Current | None = None
    last_at: datetime | None = None
    pending: deque[tuple[Seen | None, datetime]] = field(default_factory=deque)
    worker: asyncio.Task[None] | None = None


@dataclass
class RecorderStats:
    readings: int = 0
    queued: int = 0
    writes: int = 0
    failures: int = 0


class PlayRecorder:
    """Builds the plays of the accounts this process polls (module doc)."""

    def __init__(
        self,
        *,
        units: UnitsOfWork,
        bus: EventBus,
        settings: Settings,
        follows: Callable[[uuid.UUID], bool],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.units = units
        self.bus = bus
        self.follows = follows
        self.clock = clock
        self.tolerance_ms = settings.poll_seek_tolerance_ms
        self.gap = timedelta(seconds=settings.history_gap_seconds)
        # Readings further apart than any cadence: polling stopped here meanwhile (the
        # account went to another process and came back), so the database knows better.
        self.reload_after = timedelta(
            seconds=2
            * max(
                settings.poll_playing_seconds,
                settings.poll_paused_seconds,
                settings.poll_idle_seconds,
            )
            + 1
        )
        self.stats = RecorderStats()
        self._accounts: dict[uuid.UUID, _Account] = {}
        self._writers = asyncio.Semaphore(WRITERS)
        self._stop_observing: Callable[[], None] | None = None

    def attach(self, store: NowPlayingStore) -> None:
        """Observe ``store`` from now on."""
        self._stop_observing = store.observe(self.observe)

    async def stop(self) -> None:
        """Stop observing; let the writes under way finish."""
        if self._stop_observing is not None:
            self._stop_observing()
        workers = [a.worker for a in self._accounts.values() if a.worker is not None]
        await asyncio.gather(*workers, return_exceptions=True)

    @property
    def idle(self) -> bool:
        """No account has readings waiting to be written."""
        return all(state.worker is None for state in self._accounts.values())

    def forget(self, account_id: uuid.UUID) -> None:
        """This process no longer follows the account: what it knew may become untrue."""
        state = self._accounts.get(account_id)
        if state is not None and state.worker is None:
            del self._accounts[account_id]

    # -- the poller's path -------------------------------------------------------------

    def observe(self, account_id: uuid.UUID, reading: Reading | None) -> None:
        """A reading of the account (None: an action made the last one untrue: the next
        poll says what plays)."""
        if reading is None or not self.follows(account_id):
            return
        self.stats.readings += 1
        now = self.clock()
        state = self._touched(account_id, now)
        if self._plays_on(state, reading, now):
            return
        seen = seen_of(reading.playback, now)
        if self._nothing_to_write(state, seen, now):
            return
        self.stats.queued += 1
        state.pending.append((seen, now))
        if state.worker is None:
            state.worker = asyncio.create_task(
                self._work(account_id, state), name=f"plays-{account_id}"
            )

    def _touched(self, account_id: uuid.UUID, now: datetime) -> _Account:
        """The account's state, to be read from the database again when it was not
        observed for a while (another process may have recorded meanwhile)."""
        state = self._accounts.setdefault(account_id, _Account())
        if state.last_at is not None and now - state.last_at > self.reload_after:
            state.loaded = False
        state.last_at = now
        return state

    def _plays_on(self, state: _Account, reading: Reading, now: datetime) -> bool:
        """Whether the open play simply plays on (compared in memory: the cheap path of
        every poll): then it is kept, and nothing is written."""
        if not state.loaded or state.pending or state.current is None:
            return False
        kept = plays_on(
            state.current, reading.playback, now, tolerance_ms=self.tolerance_ms, gap=self.gap
        )
        if kept is None:
            return False
        state.current = kept
        return True

    def _nothing_to_write(self, state: _Account, seen: Seen | None, now: datetime) -> bool:
        """Whether what was seen changes nothing recorded (decided in memory, when nothing
        waits to be written before it)."""
        if not state.loaded or state.pending:
            return False
        decision = self._decide(state.current, seen, now)
        if decision.keep is not None and decision.update is None:
            state.current = decision.keep  # plays on: nothing to write
            return True
        return state.current is None and seen is None

    def _decide(self, current: Current | None, seen: Seen | None, now: datetime) -> Decision:
        return decide(current, seen, now, tolerance_ms=self.tolerance_ms, gap=self.gap)

    # -- the account's worker ----------------------------------------------------------

    async def _work(self, account_id: uuid.UUID, state: _Account) -> None:
        try:
            while state.pending:
                seen, now = state.pending[0]
                try:
                    async with self._writers:
                        await self._apply(account_id, state, seen, now)
                except Exception:
                    self.stats.failures += 1
                    state.loaded = False  # read the database's truth again next time
                    logger.exception("recording a play of account %s failed", account_id)
                state.pending.popleft()
        finally:
            state.worker = None

    async def _apply(
        self, account_id: uuid.UUID, state: _Account, seen: Seen | None, now: datetime
    ) -> None:
        for _ in range(2):  # once more after losing a race to another process
            if not state.loaded:
                async with self.units.begin() as work:
                    state.current = await repository.open_play(work.session, account_id)
                state.loaded = True
            decision = self._decide(state.current, seen, now)
            if await self._write(account_id, state, seen, decision):
                return
            state.loaded = False

    async def _write(
        self, account_id: uuid.UUID, state: _Account, seen: Seen | None, decision: Decision
    ) -> bool:
        """Carry ``decision`` out; False when the database disagreed (raced)."""
        if decision.end is None and decision.start is None:
            if decision.update is not None:
                async with self.units.begin() as work:
                    if not await repository.update_open(work.session, account_id, decision.update):
                        return False
                self.stats.writes += 1
            state.current = decision.keep
            return True
        ended: Play | None = None
        started: Play | None = None
        try:
            async with self.units.begin() as work:
                session = work.session
                if decision.end is not None and state.current is not None:
                    ended = await self._close(
                        session, account_id, state.current, decision.end, seen
                    )
                    if ended is None:
                        return False
                if decision.start is not None and seen is not None:
                    started, current = await self._open(session, account_id, seen, decision.start)
                    state.current = current
                else:
                    state.current = None
        except IntegrityError:
            return False
        self.stats.writes += 1
        await self._announce(account_id, ended, "ended")
        await self._announce(account_id, started, "started")
        return True

    async def _close(
        self,
        session: Any,
        account_id: uuid.UUID,
        current: Current,
        ending: Ending,
        seen: Seen | None,
    ) -> Play | None:
        reason, by = ending.reason, None
        if reason is EndReason.SKIPPED:
            reason, by = await self._why_skipped(session, account_id, current, seen)
        values = {
            "ended_at": ending.ended_at,
            "ended_estimated": ending.estimated,
            "end_reason": reason.value,
            "listened_ms": ending.listened_ms,
            "skipped_by": by,
        }
        if not await repository.close_play(session, account_id, current, values):
            return None
        return await session.get(Play, (current.play_id, current.started_at))  # type: ignore[no-any-return]

    async def _why_skipped(
        self, session: Any, account_id: uuid.UUID, current: Current, seen: Seen | None
    ) -> tuple[EndReason, str | None]:
        """A command through TuneDeck since the last reading says why and who; else a
        change of context means the music was replaced, and anything else a skip."""
        since = current.seen_at - COMMAND_SLACK
        commands = await repository.recent_commands(session, account_id, ENDING_COMMANDS, since)
        if commands:
            return REASON_OF_COMMAND[commands[0].type], commands[0].actor
        if seen is not None and seen.context_uri != current.context_uri:
            return EndReason.REPLACED, None
        return EndReason.SKIPPED, None

    async def _open(
        self, session: Any, account_id: uuid.UUID, seen: Seen, started_at: datetime
    ) -> tuple[Play, Current]:
        stream = await repository.open_stream(session, account_id)
        source, request = await self._source(session, account_id, seen)
        item = seen.item
        play_id = uuid.uuid4()
        offset = None
        if stream is not None:
            offset = round((started_at - stream.started_at).total_seconds() * 1000)
        row = {
            "id": play_id,
            "started_at": started_at,
            "account_id": account_id,
            "item_uri": item.uri,
            "item_type": item.type,
            "name": item.name[:500],
            "artists": list(item.artists),
            "artist": item.artists[0][:300] if item.artists else None,
            "album": item.album[:500] if item.album else None,
            "duration_ms": item.duration_ms,
            "art_url": item.art_url if item.art_url and len(item.art_url) <= 1000 else None,
            "context_uri": seen.context_uri,
            "context_type": seen.context_type,
            "source": source,
            "request_id": request[0] if request else None,
            "requested_by": request[1] if request else None,
            "stream_id": stream.id if stream is not None else None,
            "offset_ms": offset,
        }
        current = Current(
            play_id=play_id,
            started_at=started_at,
            item_uri=item.uri,
            item_type=item.type,
            duration_ms=item.duration_ms,
            context_uri=seen.context_uri,
            is_playing=seen.is_playing,
            progress_ms=seen.progress_ms,
            seen_at=seen.at,
            listened_ms=0,
            stream_id=stream.id if stream is not None else None,
        )
        return await repository.insert_play(session, account_id, current, row), current

    async def _source(
        self, session: Any, account_id: uuid.UUID, seen: Seen
    ) -> tuple[str, tuple[uuid.UUID, str] | None]:
        """Where the item came from: a request the queue marks as playing, a track
        queued through TuneDeck lately, else its context."""
        uri = seen.item.uri
        if uri is None or seen.item.type == "ad":
            return "context", None
        request = await repository.playing_request(session, account_id, uri)
        if request is not None:
            return "request", request
        queued = await repository.recent_commands(
            session, account_id, (EventType.QUEUE_ADD.value,), seen.at - QUEUE_MEMORY
        )
        if any(command.params.get("uri") == uri for command in queued):
            return "queue", None
        return "context", None

    async def _announce(
        self, account_id: uuid.UUID, play: Play | None, change: Literal["started", "ended"]
    ) -> None:
        if play is None:
            return
        message = PlayChange(
            change=change,
            play=PlayOut.of(play).model_dump(mode="json"),
        )
        try:
            await self.bus.publish(account_id, message.to_wire())
        except BusUnavailable as exc:
            logger.warning("could not publish a play of account %s: %s", account_id, exc)

"""The request feeder: hands the next request to Spotify just in time, and follows it.

TuneDeck keeps its own queue so that a waiting request can still be removed, moved or
rejected; Spotify gets a request only when it is next: while the item playing has
``lead`` seconds left (Spotify's queue, which plays before the streamer's playlist
continues by itself), or at once with ``play`` when nothing plays (then where the
streamer's own music was is remembered, and it resumes there once no request waits).

It follows "now playing" through the process's now-playing store (the poller records
every poll there; :meth:`NowPlayingStore.observe`), and only for the accounts whose poll
lease this process holds (``holds``): one feeder per account across every process. What
it decided is in the database (``sent`` before Spotify is asked; ``request_playback``):
a restart or another process taking the account over sees a ``sent`` request and does
not send it again. States: ``queued`` → ``sent`` → ``playing`` (seen playing) →
``played`` (it came to its end) or ``skipped`` (something else came on before).

Each decision is one short unit of work under the account's queue lock; none is held
while Spotify is asked.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tunedeck.connections.errors import SpotifyAppRejected, SpotifyNeedsReauth, SpotifyNotConnected
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.context import SpotifyClients
from tunedeck.player.now_playing import NowPlayingStore, Reading
from tunedeck.requests.feed_rules import Seen, progress_at, remaining_seconds
from tunedeck.requests.feed_steps import FeedSteps, HandOver
from tunedeck.spotify.errors import NO_ACTIVE_DEVICE, SpotifyError, SpotifyRateLimitError

logger = logging.getLogger(__name__)

LEAD_SECONDS = 5.0
"""A request is handed to Spotify when the item playing has this long left."""

_NOT_NOW = (SpotifyNotConnected, SpotifyNeedsReauth, SpotifyAppRejected, SpotifyRateLimitError)


@dataclass
class AccountFeed:
    """What the feeder remembers of one account between readings (nothing it relies on
    to be right: the database holds the decisions)."""

    last: Reading | None = None
    # How far the playing request's playhead was seen to go (ms), by request id.
    furthest: dict[uuid.UUID, int] = field(default_factory=dict)
    # When the next request is due to be handed over (event-loop time).
    due: float | None = None
    # Why a waiting request is not handed over now, if it is not.
    status: str | None = None
    # The request playing at the last reading.
    playing: HandOver | None = None


class Feeder:
    """The feeder of one process (``Runtime.feeder``): started and stopped with it."""

    def __init__(
        self,
        *,
        units: UnitsOfWork,
        now_playing: NowPlayingStore,
        clients: SpotifyClients,
        holds: Callable[[uuid.UUID], bool],
        lead: float = LEAD_SECONDS,
    ) -> None:
        self.store = now_playing
        self.clients = clients
        self.holds = holds
        self.lead = lead
        self.steps = FeedSteps(units)
        self.handed_over = 0
        self._feeds: dict[uuid.UUID, AccountFeed] = {}
        self._pending: dict[uuid.UUID, Reading] = {}
        self._wake = asyncio.Event()
        self._stop_observing: Callable[[], None] | None = None
        self._task = SupervisedTask(
            "request-feeder", self._run, backoff=Backoff(initial=0.5, maximum=10.0), logger=logger
        )

    def __repr__(self) -> str:
        return f"Feeder(accounts={len(self._feeds)}, handed_over={self.handed_over})"

    def status_of(self, account_id: uuid.UUID) -> str | None:
        """Why the account's next request waits, when it waits for something."""
        feed = self._feeds.get(account_id)
        return feed.status if feed is not None else None

    def seen_left(self, account_id: uuid.UUID, uri: str) -> int | None:
        """Milliseconds ``uri`` had left at the last reading followed, if it was playing."""
        feed = self._feeds.get(account_id)
        seen = Seen.of(feed.last if feed is not None else None)
        if seen.uri != uri or seen.progress_ms is None or seen.duration_ms is None:
            return None
        return seen.duration_ms - seen.progress_ms

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._stop_observing = self.store.observe(self._observed)
        await self._task.start()

    async def stop(self) -> None:
        """Stop following; a decision under way is finished first."""
        if self._stop_observing is not None:
            self._stop_observing()
            self._stop_observing = None
        await self._task.stop()

    def _observed(self, account_id: uuid.UUID, reading: Reading | None) -> None:
        if reading is None or not self.holds(account_id):
            return
        self._pending[account_id] = reading
        self._wake.set()

    async def _run(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            self._wake.clear()
            now = loop.time()
            work = dict(self._pending)
            self._pending.clear()
            for account, feed in self._feeds.items():
                due = feed.due is not None and feed.due <= now
                if due and account not in work and feed.last is not None:
                    work[account] = feed.last
            if work:
                await asyncio.gather(*(self._follow(a, r) for a, r in work.items()))
            dues = [f.due for f in self._feeds.values() if f.due is not None]
            within = max(0.0, min(dues) - loop.time()) if dues else None
            await wait_any(stopping, self._wake, within=within)

    # -- one account ---------------------------------------------------------------------

    async def _follow(self, account_id: uuid.UUID, reading: Reading) -> None:
        try:
            await self.follow(account_id, reading)
        except Exception:  # one account's trouble must not stop the others
            logger.exception("the request feeder failed on account %s", account_id)

    async def follow(self, account_id: uuid.UUID, reading: Reading) -> None:
        """Act on a reading of the account: mark what Spotify shows, then hand the next
        request over if it is time (the loop calls this; tests may)."""
        if not self.holds(account_id):
            self._feeds.pop(account_id, None)
            return
        feed = self._feeds.setdefault(account_id, AccountFeed())
        # The same reading again (a timer): nothing changed since, as far as it says.
        previous = feed.last
        feed.last, feed.due = reading, None
        _track_progress(feed, previous, reading)
        settled = await self.steps.settle(account_id, reading, previous, feed.furthest)
        feed.playing = settled.playing
        if settled.ended is not None:
            feed.furthest.pop(settled.ended, None)
        if settled.check_sent is not None:
            await self._check_sent(account_id, settled.check_sent)
        elif settled.sent is None and settled.waiting:
            await self._maybe_hand_over(account_id, feed, reading, paused_request=settled.playing)
            return
        elif settled.sent is None and settled.playing is None and settled.resume:
            await self._maybe_resume(account_id, reading)
        feed.status = None

    async def _maybe_hand_over(
        self,
        account_id: uuid.UUID,
        feed: AccountFeed,
        reading: Reading,
        *,
        paused_request: HandOver | None,
    ) -> None:
        seen = Seen.of(reading)
        if not seen.device_active:
            feed.status = "A request is waiting: no Spotify device is active."
            return
        if not seen.is_playing and paused_request is not None:
            # The streamer paused a request: the next one waits for it, not over it.
            feed.status = "A request is waiting: the request playing is paused."
            return
        if seen.is_playing and seen.uri is not None:
            left = remaining_seconds(reading, asyncio.get_running_loop().time())
            if left is None or left > self.lead:
                # Come back when it is time (a reading may come first and say otherwise).
                if left is not None:
                    feed.due = asyncio.get_running_loop().time() + left - self.lead
                feed.status = None
                return
            await self._hand_over(account_id, feed, reading, start=False)
            return
        await self._hand_over(account_id, feed, reading, start=True)

    async def _hand_over(
        self, account_id: uuid.UUID, feed: AccountFeed, reading: Reading, *, start: bool
    ) -> None:
        """Mark the next request ``sent``, then give it to Spotify: queued after the item
        playing, or played now (``start``)."""
        chosen = await self.steps.mark_sent(account_id, reading, start=start)
        if chosen is None:
            return
        try:
            spotify = await self.clients.client_for(account_id)
            if start:
                await spotify.play(uris=[chosen.track_uri])
            else:
                await spotify.add_to_queue(chosen.track_uri)
        except _NOT_NOW as exc:
            await self._not_now(account_id, feed, chosen, exc)
        except SpotifyError as exc:
            await self._refused(account_id, feed, chosen, exc)
        except (TimeoutError, httpx.HTTPError) as exc:
            # Maybe done, maybe not: it stays sent; the next change of item tells.
            logger.warning("handing request %s to Spotify is unsure: %r", chosen.id, exc)
        else:
            self.handed_over += 1
            feed.status = None
        finally:
            if start:
                self.store.invalidate(account_id)

    async def _not_now(
        self, account_id: uuid.UUID, feed: AccountFeed, chosen: HandOver, exc: Exception
    ) -> None:
        feed.status = f"A request is waiting: {exc}"
        logger.info("request %s waits: %s", chosen.id, exc)
        await self.steps.unsend(account_id, chosen.id)

    async def _refused(
        self, account_id: uuid.UUID, feed: AccountFeed, chosen: HandOver, exc: SpotifyError
    ) -> None:
        if exc.reason == NO_ACTIVE_DEVICE:
            feed.status = "A request is waiting: no Spotify device is active."
            await self.steps.unsend(account_id, chosen.id)
            return
        if exc.status >= 500:
            logger.warning("handing request %s to Spotify is unsure: %s", chosen.id, exc)
            return
        if exc.status in (400, 403, 404) and exc.reason in (None, "UNKNOWN"):
            logger.info("Spotify refused request %s: %s", chosen.id, exc)
            await self.steps.refused(account_id, chosen.id)
            return
        feed.status = f"A request is waiting: {exc}"
        await self.steps.unsend(account_id, chosen.id)

    async def _check_sent(self, account_id: uuid.UUID, sent: HandOver) -> None:
        """Another item came on than the request handed over: read Spotify's queue once;
        a request no longer coming goes back to the queue (handed over again in time)."""
        request_id, uri = sent.id, sent.track_uri
        try:
            spotify = await self.clients.client_for(account_id)
            queue = await spotify.queue()
        except (SpotifyError, httpx.HTTPError, TimeoutError, *_NOT_NOW) as exc:
            logger.info("could not read Spotify's queue for request %s: %r", request_id, exc)
            return
        coming = [item.uri for item in queue.queue]
        current = queue.currently_playing.uri if queue.currently_playing is not None else None
        if uri not in coming and uri != current:
            logger.info("request %s is no longer in Spotify's queue: queued again", request_id)
            await self.steps.unsend(account_id, request_id)

    async def _maybe_resume(self, account_id: uuid.UUID, reading: Reading) -> None:
        """No request waits or plays: if one interrupted the streamer's music and nothing
        plays now, play that music from where it was."""
        seen = Seen.of(reading)
        if seen.is_playing:
            # The streamer's own music plays again (they chose it): nothing to resume.
            await self.steps.forget_resume_point(account_id)
            return
        if not seen.device_active:
            return
        point = await self.steps.take_resume_point(account_id)
        if point is None:
            return
        try:
            spotify = await self.clients.client_for(account_id)
            await spotify.play(
                context_uri=point.context_uri,
                offset_uri=point.item_uri,
                position_ms=point.position_ms,
            )
        except (SpotifyError, httpx.HTTPError, TimeoutError, *_NOT_NOW) as exc:
            logger.info("could not resume the streamer's music on %s: %r", account_id, exc)
        finally:
            self.store.invalidate(account_id)


def _track_progress(feed: AccountFeed, previous: Reading | None, reading: Reading) -> None:
    """Keep how far the playing request went: the furthest playhead seen, the previous
    reading's predicted up to now included (the request may have ended just now)."""
    playing = feed.playing
    if playing is None:
        return
    best = feed.furthest.get(playing.id)
    for seen in (previous, reading):
        if seen is None or Seen.of(seen).uri != playing.track_uri:
            continue
        progress = progress_at(seen, reading.at)
        if progress is not None and (best is None or progress > best):
            best = progress
    if best is not None:
        feed.furthest[playing.id] = best

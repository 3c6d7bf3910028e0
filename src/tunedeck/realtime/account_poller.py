"""One watched account's polling loop: poll when due, publish what changed, say why not.

An :class:`AccountPoller` runs as its own task, so a slow or failing account never
delays another one (and each poll has a timeout). Its loop sleeps until the next poll
is due (:mod:`.schedule`), or until a command sent through TuneDeck asks for a burst:
it learns of commands from the ``event`` messages already on the account's channel,
so nothing in the player or the doors has to know the poller exists.

Each poll's answer is recorded in the process's now-playing store
(``player.now_playing``: an API read right after a poll does not ask Spotify again, and
whatever follows what plays hears of it there) and compared with the previous one
(:mod:`.changes`); on a change a ``now_playing`` snapshot goes to the account's channel
(the first poll always sends one). A ``status`` message tells the clients when the
account's situation changes: ``polling``, ``no_active_device``, ``needs_reauth``
(polling stops until the connection changes), ``rate_limited`` with ``retry_at`` (a
long 429 pause of the account's Spotify app), ``idle`` (not polled any more, or not
connected).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from tunedeck.connections.errors import SpotifyAppRejected, SpotifyNeedsReauth, SpotifyNotConnected
from tunedeck.events.bus import BusUnavailable, EventBus, Subscription
from tunedeck.events.types import EventType
from tunedeck.kit.background import Backoff
from tunedeck.kit.db import utcnow
from tunedeck.kit.metrics import Metrics
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.player.schemas import NowPlayingOut
from tunedeck.realtime.changes import Change, Observation, changes
from tunedeck.realtime.messages import NowPlaying, Status, StatusKind
from tunedeck.realtime.poll_clients import PollClient, PollClientSource
from tunedeck.realtime.poll_leases import PollLeases
from tunedeck.realtime.ratelimit import AppPauses, SharedPauses
from tunedeck.realtime.schedule import END_POLLS_PER_ITEM, FIRST_PHASE, Bursts, Cadence
from tunedeck.requests.requesters import RequesterNames
from tunedeck.spotify.errors import NO_ACTIVE_DEVICE, SpotifyError, SpotifyRateLimitError
from tunedeck.spotify.models import Playback

logger = logging.getLogger(__name__)

CLIENT_MAX_AGE = 300.0
"""Seconds a Spotify client is reused; then the connection is read again (a reconnection
to another Spotify user is picked up by then at the latest)."""

LEASE_RECHECK = 0.25
"""Seconds between looks at a lease that is not usable yet (renewal late)."""

FAILURE_BACKOFF_MAX = 30.0
"""Longest pause after consecutive failed polls (Spotify down, timeouts)."""

FAILURE_JITTER = 0.0
"""No jitter on the failure backoff: each account's polls are spread already (the random
phase of its first poll), so its retries after a shared outage are too."""

# Commands whose event asks for no burst: they do not change what plays.
_NO_BURST = frozenset({EventType.QUEUE_ADD.value})


@dataclass
class PollStats:
    """What the pollers of one process did (counters, and how late polls started)."""

    polls: int = 0
    published: int = 0
    failures: int = 0
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))


@dataclass(frozen=True)
class PollContext:
    """What the account pollers of one :class:`~tunedeck.realtime.poller.Poller` share."""

    bus: EventBus
    clients: PollClientSource
    leases: PollLeases
    pauses: AppPauses
    shared_pauses: SharedPauses
    cadence: Cadence
    seek_tolerance_ms: int
    timeout: float
    announce_after: float
    reauth_check: float
    now_playing: NowPlayingStore
    stats: PollStats
    clock: Callable[[], float] = time.monotonic
    metrics: Metrics | None = None
    # Who requested the track playing (the ``requested_by`` of ``now_playing``).
    requesters: RequesterNames | None = None


def _raise_if_cancelling() -> None:
    """Honour a cancellation that a timeout swallowed (Python 3.11's ``asyncio.timeout``
    may turn a cancel arriving as it expires into a TimeoutError): the poller stopping an
    account must never wait for a task that carries on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def is_command(message: dict[str, Any]) -> bool:
    """Whether a channel message is the event of a command that may change what plays.

    Events are on the channel as ``{"type": "event", "event": {...}}`` (the live
    message) or as the recorded event itself with ``"kind": "event"``.
    """
    if message.get("type") == "event":
        event = message.get("event")
    elif message.get("kind") == "event":
        event = message
    else:
        return False
    return isinstance(event, dict) and event.get("type") not in _NO_BURST


class AccountPoller:
    """Polls one account (its lease held by this process) until cancelled.

    ``polls`` counts its polls that Spotify answered, ``status`` is the last status it
    published, ``last`` the last answer.
    """

    def __init__(self, account_id: uuid.UUID, ctx: PollContext) -> None:
        self.account_id = account_id
        self.ctx = ctx
        self.polls = 0
        self.last: Observation | None = None
        self.app_id: str | None = None
        self._status: tuple[StatusKind, float | None] | None = None
        # Publish the next snapshot even if nothing changed: the last one could not be
        # published, or the clients were told polling stopped.
        self._stale = False
        self._client: PollClient | None = None
        self._client_at = 0.0
        self._bursts = Bursts(ctx.cadence.burst)
        self._wake = asyncio.Event()
        self._end_polls: tuple[str | None, int] = (None, 0)
        self._failures = 0
        self._target = 0.0

    def __repr__(self) -> str:
        return f"AccountPoller({self.account_id}, polls={self.polls}, status={self.status})"

    @property
    def status(self) -> StatusKind | None:
        return self._status[0] if self._status is not None else None

    # -- the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Poll now, then whenever due, until cancelled."""
        async with self.ctx.bus.subscribe(self.account_id) as subscription:
            listener = asyncio.create_task(
                self._listen(subscription), name=f"poll-commands-{self.account_id}"
            )
            try:
                due = self.ctx.clock()
                while True:
                    await self._sleep_until(due)
                    _raise_if_cancelling()
                    due = await self._step_safely()
                    _raise_if_cancelling()
            finally:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

    async def _listen(self, subscription: Subscription) -> None:
        async for message in subscription:
            if is_command(message):
                self._bursts.command_seen(self.ctx.clock())
                self._wake.set()

    async def _sleep_until(self, due: float) -> None:
        """Sleep until ``due`` or the next burst poll, whichever comes first (a command
        seen meanwhile may bring it forward)."""
        clock = self.ctx.clock
        loop = asyncio.get_running_loop()
        while True:
            burst = self._bursts.next()
            self._target = due if burst is None else min(due, burst)
            delay = self._target - clock()
            if delay <= 0:
                return
            # A timer setting the wake-up event, rather than a timeout around the wait: a
            # cancellation can never be mistaken for the end of the sleep.
            self._wake.clear()
            timer = loop.call_later(delay, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()

    async def _step_safely(self) -> float:
        try:
            return await self.step()
        except Exception as exc:  # a bug or the database: keep the account, retry later
            self._failures += 1
            self.ctx.stats.failures += 1
            if self._failures == 1:
                logger.exception("polling account %s failed", self.account_id, extra=self._event())
            else:
                logger.warning(
                    "polling account %s failed again: %r", self.account_id, exc, extra=self._event()
                )
            return self.ctx.clock() + self._failure_delay()

    async def step(self) -> float:
        """Poll if the account may be polled now; returns when to come back."""
        ctx = self.ctx
        now = ctx.clock()
        self._bursts.polled(now)  # blocked or not, the bursts due by now are served
        if not ctx.leases.usable(self.account_id):
            # The lease might expire during the poll (renewal late): another process
            # may take the account then, and two must never poll it at once.
            return now + LEASE_RECHECK
        client = await self._client_now(now)
        if client is None:
            return now + ctx.reauth_check
        paused = ctx.pauses.until(client.app_id)
        if paused is not None:
            await self._announce_pause(paused)
            return paused
        return await self._poll(client)

    # -- one poll --------------------------------------------------------------------

    async def _poll(self, client: PollClient) -> float:
        ctx = self.ctx
        started = ctx.clock()
        read_at = asyncio.get_running_loop().time()
        lateness = max(0.0, started - self._target)
        ctx.stats.lateness.append(lateness)
        if ctx.metrics is not None:
            ctx.metrics.poll_late(lateness)
        try:
            async with asyncio.timeout(ctx.timeout):
                playback = await client.spotify.playback()
        except SpotifyRateLimitError as exc:
            until = ctx.pauses.pause(client.app_id, exc.retry_after)
            logger.info(
                "Spotify rate limits app %s (polling account %s): pausing its polls %.1f s",
                client.app_id,
                self.account_id,
                until - ctx.clock(),
            )
            await ctx.shared_pauses.publish(client.app_id, until)
            await self._announce_pause(until)
            return until
        except SpotifyError as exc:
            if exc.reason != NO_ACTIVE_DEVICE:
                return await self._failed(exc, drop_client=exc.status in (401, 403))
            playback = None
        except (SpotifyNeedsReauth, SpotifyNotConnected, SpotifyAppRejected) as exc:
            await self._blocked(exc)
            return ctx.clock() + ctx.reauth_check
        except (TimeoutError, httpx.HTTPError) as exc:
            return await self._failed(exc)
        self.polls += 1
        ctx.stats.polls += 1
        self._failures = 0
        ctx.pauses.succeeded(client.app_id)
        observation = Observation(playback, ctx.clock())
        ctx.now_playing.record(self.account_id, playback, read_at=read_at)
        await self._observe(observation)
        return self._next_due(observation)

    async def _observe(self, observation: Observation) -> None:
        found = changes(self.last, observation, seek_tolerance_ms=self.ctx.seek_tolerance_ms)
        self.last = observation
        if Change.SEEK in found:
            self._end_polls = (observation.item[0], 0)
        if found or self._stale:
            snapshot = NowPlaying(now_playing=await self._now_playing(observation.playback))
            self._stale = not await self._publish(snapshot.to_wire())
        if observation.device_active:
            await self._set_status(StatusKind.POLLING, "Polling Spotify for this account.")
        else:
            await self._set_status(
                StatusKind.NO_ACTIVE_DEVICE, "Nothing is playing: no Spotify device is active."
            )

    async def _now_playing(self, playback: Playback | None) -> NowPlayingOut | None:
        if playback is None:
            return None
        requesters = self.ctx.requesters
        if requesters is None:
            return NowPlayingOut.of(playback)
        return await requesters.now_playing(self.account_id, playback)

    def _next_due(self, observation: Observation) -> float:
        cadence = self.ctx.cadence
        uri = observation.item[0]
        if self._end_polls[0] != uri:
            self._end_polls = (uri, 0)
        spent = self._end_polls[1]
        phase = random.uniform(*FIRST_PHASE) if self.polls == 1 else 1.0
        due = cadence.next_poll(observation, end_polls_left=spent < END_POLLS_PER_ITEM, phase=phase)
        if spent < END_POLLS_PER_ITEM and due == cadence.track_end(observation):
            self._end_polls = (uri, spent + 1)
        return due

    # -- when it cannot poll ---------------------------------------------------------

    async def _client_now(self, now: float) -> PollClient | None:
        if self._client is not None and now - self._client_at < CLIENT_MAX_AGE:
            return self._client
        self._client = None
        try:
            client = await self.ctx.clients.open(self.account_id)
        except (SpotifyNeedsReauth, SpotifyNotConnected, SpotifyAppRejected) as exc:
            await self._blocked(exc)
            return None
        self._client, self._client_at, self.app_id = client, now, client.app_id
        return client

    async def _blocked(self, exc: Exception) -> None:
        """The account cannot be polled until its connection changes: say so once, and
        look at the connection again every ``reauth_check`` seconds (no Spotify call)."""
        self._client = None
        self._stale = True  # once polled again, the clients get a fresh snapshot
        if isinstance(exc, SpotifyNeedsReauth):
            await self._set_status(
                StatusKind.NEEDS_REAUTH,
                "Spotify no longer accepts this account's authorization: connect Spotify again.",
            )
        else:
            await self._set_status(StatusKind.IDLE, f"Not polling: {exc}")

    async def _announce_pause(self, until: float) -> None:
        remaining = until - self.ctx.clock()
        if remaining <= self.ctx.announce_after:
            return
        retry_at = (utcnow() + timedelta(seconds=remaining)).replace(microsecond=0)
        self._stale = True  # once polled again, the clients get a fresh snapshot
        await self._set_status(
            StatusKind.RATE_LIMITED,
            f"Spotify rate limits this app: polling resumes at {retry_at.isoformat()}.",
            retry_at=retry_at,
            key=until,
        )

    async def _failed(self, exc: Exception, *, drop_client: bool = False) -> float:
        self._failures += 1
        self.ctx.stats.failures += 1
        if drop_client:
            self._client = None
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        logger.log(
            level, "polling account %s failed: %r", self.account_id, exc, extra=self._event()
        )
        return self.ctx.clock() + self._failure_delay()

    def _event(self) -> dict[str, object]:
        """The structured fields of a failed poll's log line (``extra``)."""
        return {
            "event": "poll_failed",
            "account_id": str(self.account_id),
            "failures": self._failures,
        }

    def _failure_delay(self) -> float:
        """The regular period, doubled per consecutive failure (capped)."""
        period = self.ctx.cadence.period(self.last) if self.last else self.ctx.cadence.playing
        backoff = Backoff(
            initial=min(period, FAILURE_BACKOFF_MAX),
            maximum=FAILURE_BACKOFF_MAX,
            jitter=FAILURE_JITTER,
        )
        return backoff.delay(self._failures)

    # -- publishing ------------------------------------------------------------------

    async def farewell(self) -> None:
        """Polling of the account stops here (no one watches it): tell its clients."""
        await self._set_status(StatusKind.IDLE, "Not polling: no one is watching this account.")

    async def _set_status(
        self,
        kind: StatusKind,
        message: str,
        *,
        retry_at: datetime | None = None,
        key: float | None = None,
    ) -> None:
        """Publish the status when it differs from the last one published."""
        if self._status == (kind, key):
            return
        if await self._publish(Status(status=kind, message=message, retry_at=retry_at).to_wire()):
            self._status = (kind, key)

    async def _publish(self, message: dict[str, Any]) -> bool:
        try:
            await self.ctx.bus.publish(self.account_id, message)
        except BusUnavailable as exc:
            logger.warning("could not publish to account %s: %s", self.account_id, exc)
            return False
        self.ctx.stats.published += 1
        return True

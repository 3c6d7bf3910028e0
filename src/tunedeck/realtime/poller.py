"""The poller of a process: polls the watched accounts whose leases it holds.

Two supervised loops (``kit.background``) and one task per account:

- **reconcile** (every ``poll_reconcile_seconds``, and at once when a client of a new
  account connects to this process): reads the watched set (:mod:`.watch`), gives back
  the accounts no longer watched (their clients hear ``idle``), takes the watched
  accounts nobody polls (:mod:`.poll_leases`, up to ``poll_max_accounts``) and starts
  an :class:`~tunedeck.realtime.account_poller.AccountPoller` for each;
- **renew** (every third of the lease TTL): renews every lease held in one statement;
  an account whose lease was lost (this process was too slow, another one took it over)
  stops being polled here.

On stop the leases are given back, so other processes take the accounts over at their
next reconcile instead of after the TTL. Several processes (``serve``s with
``poll_in_process``, ``tunedeck worker``s) share the accounts that way; each watched
account is polled by exactly one of them.

The share is fair: each poller holds a membership lease, and with ``n`` of them alive
and ``w`` accounts watched a process takes accounts up to ``ceil(w / n)``, and when
it holds more than that plus a slack of a tenth (a process joined) gives the excess
back, so that the newcomer gets its part within a reconcile or two.
``poll_max_accounts`` is a safety cap on top: balancing assumes every process can
take its fair share.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Protocol

from tunedeck.config import Settings
from tunedeck.events.bus import EventBus
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import Database
from tunedeck.kit.leases import Leases, new_owner
from tunedeck.kit.metrics import Metrics
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.account_poller import AccountPoller, PollContext, PollStats
from tunedeck.realtime.poll_clients import PollClientSource
from tunedeck.realtime.poll_leases import PollLeases
from tunedeck.realtime.ratelimit import AppPauses, SharedPauses
from tunedeck.realtime.schedule import Cadence
from tunedeck.requests.requesters import RequesterNames

logger = logging.getLogger(__name__)

BALANCE_SLACK = 0.1
"""A process may hold this fraction more than its fair share before giving some back."""


class WatchedAccounts(Protocol):
    """The watched registry as the poller reads it (``realtime.watch.WatchRegistry``)."""

    changed: asyncio.Event

    async def watched(self) -> set[uuid.UUID]: ...


class Poller:
    """Polls, in this process, its share of the watched accounts (``Runtime.poller``).

    ``owner`` names this process in the leases table. ``now_playing`` is the process's
    now-playing store, which every poll's answer is recorded in (one of the poller's own
    when not given). ``stats``
    counts polls, publications and failures; ``reconciles`` the reconcile passes done;
    ``watched_count`` how many accounts the last one found watched (in every process).
    ``metrics`` gets how late each poll started; ``requesters`` names who requested the
    track playing in what is published.
    """

    def __init__(
        self,
        *,
        db: Database,
        bus: EventBus,
        watch: WatchedAccounts,
        clients: PollClientSource,
        settings: Settings,
        owner: str | None = None,
        now_playing: NowPlayingStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
        requesters: RequesterNames | None = None,
    ) -> None:
        self.owner = owner or new_owner("poller")
        self.watch = watch
        self.settings = settings
        ttl = settings.poll_lease_seconds
        self.leases = PollLeases(
            Leases(db),
            self.owner,
            ttl,
            margin=min(settings.poll_timeout_seconds, ttl / 2),
            clock=clock,
        )
        self.pauses = AppPauses(clock=clock)
        self.shared_pauses = SharedPauses(db, self.pauses)
        self.stats = PollStats()
        self.reconciles = 0
        self.watched_count = 0
        self.ctx = PollContext(
            bus=bus,
            clients=clients,
            leases=self.leases,
            pauses=self.pauses,
            shared_pauses=self.shared_pauses,
            cadence=Cadence.of(settings),
            seek_tolerance_ms=settings.poll_seek_tolerance_ms,
            timeout=settings.poll_timeout_seconds,
            announce_after=settings.poll_rate_limit_announce_seconds,
            reauth_check=settings.poll_reauth_check_seconds,
            now_playing=now_playing or NowPlayingStore(settings.player_state_cache_seconds),
            stats=self.stats,
            clock=clock,
            metrics=metrics,
            requesters=requesters,
        )
        self._pollers: dict[uuid.UUID, tuple[AccountPoller, asyncio.Task[None]]] = {}
        self._joined = asyncio.Event()
        reconcile_every = settings.poll_reconcile_seconds
        self._reconciler = SupervisedTask(
            "poller",
            self._reconcile_loop,
            backoff=Backoff(initial=min(0.5, reconcile_every), maximum=max(5.0, reconcile_every)),
            logger=logger,
        )
        self._renewer = SupervisedTask(
            "poller-leases",
            self._renew_loop,
            backoff=Backoff(initial=min(0.5, ttl / 10), maximum=ttl / 3),
            logger=logger,
        )

    def __repr__(self) -> str:
        return f"Poller(owner={self.owner!r}, accounts={len(self._pollers)})"

    @property
    def running(self) -> bool:
        """Whether it takes and gives up accounts (its reconciling loop runs)."""
        return self._reconciler.running

    @property
    def accounts(self) -> set[uuid.UUID]:
        """The accounts this process polls now."""
        return set(self._pollers)

    def account(self, account_id: uuid.UUID) -> AccountPoller | None:
        """The account's poller, if this process polls it."""
        entry = self._pollers.get(account_id)
        return entry[0] if entry is not None else None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the loops (the database is first used by them: an outage at start is
        retried like any other)."""
        await self._renewer.start()
        await self._reconciler.start()

    async def stop(self) -> None:
        """Stop polling and give every lease back (others take over without waiting)."""
        await self._reconciler.stop()
        await self._renewer.stop()
        accounts = list(self._pollers)
        await self._stop_pollers(accounts)
        try:
            await self.leases.release(accounts)
            await self.leases.leave()
        except Exception as exc:  # they expire by themselves within the TTL
            logger.warning("poller %s could not release its leases: %r", self.owner, exc)

    # -- the loops -------------------------------------------------------------------

    async def _reconcile_loop(self, stopping: asyncio.Event) -> None:
        # Counted by every poller before taking anything: no share computed without us.
        await wait_any(stopping, self._joined)
        while not stopping.is_set():
            self.watch.changed.clear()
            await self.reconcile()
            await wait_any(
                stopping, self.watch.changed, within=self.settings.poll_reconcile_seconds
            )

    async def _renew_loop(self, stopping: asyncio.Event) -> None:
        await self.leases.join()
        self._joined.set()
        while not await wait_any(stopping, within=self.leases.ttl / 3):
            # Membership first: if this process dies, it is no longer counted by the
            # time its accounts are free to take.
            await self.leases.join()
            lost = await self.leases.renew()
            if lost:
                logger.info(
                    "poller %s lost %d account(s) to another process", self.owner, len(lost)
                )
                await self._stop_pollers(lost)

    async def reconcile(self) -> None:
        """One pass: poll what is watched and ours to poll, stop what is not watched;
        adopt the rate-limit pauses other processes met."""
        watched = await self.watch.watched()
        await self.shared_pauses.refresh()
        self.reconciles += 1
        self.watched_count = len(watched)
        for account, (_, task) in list(self._pollers.items()):
            if task.done() and account in self.leases:  # it crashed: start it over
                self._pollers[account] = self._spawn(account)
        gone = [account for account in self._pollers if account not in watched]
        if gone:
            stopped = await self._stop_pollers(gone)
            await self.leases.release(gone)
            for poller in stopped:
                await poller.farewell()
        fair = math.ceil(len(watched) / await self.leases.members())
        allowed = fair + max(2, math.ceil(fair * BALANCE_SLACK))
        if len(self._pollers) > allowed:
            # More than a fair share (a process joined): give the excess to the others.
            shed = random.sample(sorted(self._pollers), len(self._pollers) - fair)
            logger.info("poller %s hands %d account(s) over", self.owner, len(shed))
            await self._stop_pollers(shed)
            await self.leases.release(shed)
        room = min(self.settings.poll_max_accounts, fair) - len(self._pollers)
        candidates = [account for account in watched if account not in self._pollers]
        if not candidates or room <= 0:
            return
        # In random order: processes taking at the same time split the accounts.
        random.shuffle(candidates)
        for account in await self.leases.take(candidates, limit=room):
            self._pollers[account] = self._spawn(account)

    # -- account pollers -----------------------------------------------------------------

    def _spawn(self, account_id: uuid.UUID) -> tuple[AccountPoller, asyncio.Task[None]]:
        poller = AccountPoller(account_id, self.ctx)
        task = asyncio.create_task(poller.run(), name=f"poll-{account_id}")
        task.add_done_callback(self._ended)
        return poller, task

    async def _stop_pollers(self, accounts: Iterable[uuid.UUID]) -> list[AccountPoller]:
        entries = [entry for a in list(accounts) if (entry := self._pollers.pop(a, None))]
        for _, task in entries:
            task.cancel()
        await asyncio.gather(*(task for _, task in entries), return_exceptions=True)
        return [poller for poller, _ in entries]

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("%s crashed: %r (restarted at the next reconcile)", task.get_name(), exc)

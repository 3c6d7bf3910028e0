"""Rate-limit etiquette: a 429 pauses every poll of that Spotify app, not just one account.

Spotify rate limits an *app* (a client id), whatever account the request was for, so
once one poll of an app has been refused, the polls of its other accounts would be
refused too and would only prolong the limit. :class:`AppPauses` remembers, per app,
until when this process must not poll it: ``Retry-After`` seconds from the 429, and no
less than an exponential backoff over consecutive 429s (a missing, zero or too short
``Retry-After`` must not turn into a hammering). A successful poll of the app resets
the backoff.

The other poller processes poll other accounts of the same apps: :class:`SharedPauses`
writes each pause to the database (``spotify_app_pauses``) and every poller adopts the
pauses written there at each reconcile pass, so one 429 pauses the app everywhere
within about a second, not after a 429 in every process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tunedeck.kit.background import Backoff
from tunedeck.kit.db import Database
from tunedeck.realtime import repository

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF = Backoff(initial=1.0, maximum=120.0, jitter=0.2)


@dataclass(slots=True)
class _Pause:
    until: float
    strikes: int


class AppPauses:
    """Per Spotify app (client id): until when its polls wait, on the poller's clock."""

    def __init__(
        self,
        *,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backoff = backoff
        self.limited = 0  # 429s seen, all apps
        self._clock = clock
        self._pauses: dict[str, _Pause] = {}

    def now(self) -> float:
        return self._clock()

    def pause(self, app_id: str, retry_after: float | None) -> float:
        """A poll of ``app_id`` got a 429: pause the app; returns until when."""
        self.limited += 1
        now = self._clock()
        current = self._pauses.get(app_id)
        strikes = (current.strikes if current is not None else 0) + 1
        wait = max(retry_after or 0.0, self.backoff.delay(strikes))
        until = max(now + wait, current.until if current is not None else now)
        self._pauses[app_id] = _Pause(until, strikes)
        return until

    def adopt(self, app_id: str, until: float) -> None:
        """Another process paused ``app_id`` until ``until``: pause it here too (no strike:
        the backoff counts this process's own 429s)."""
        current = self._pauses.get(app_id)
        if current is None:
            self._pauses[app_id] = _Pause(until, 0)
        elif until > current.until:
            current.until = until

    def until(self, app_id: str) -> float | None:
        """Until when the app is paused; None when it may be polled now."""
        current = self._pauses.get(app_id)
        if current is None or current.until <= self._clock():
            return None
        return current.until

    def succeeded(self, app_id: str) -> None:
        """A poll of the app went through: the next 429 starts the backoff over."""
        current = self._pauses.get(app_id)
        if current is not None and current.until <= self._clock():
            del self._pauses[app_id]


class SharedPauses:
    """The pauses of one process's :class:`AppPauses`, shared through the database."""

    def __init__(self, db: Database, pauses: AppPauses) -> None:
        self.db = db
        self.pauses = pauses

    async def publish(self, app_id: str, until: float) -> None:
        """This process paused ``app_id`` until ``until`` (the pauses' clock): tell the
        others. A database that cannot be written leaves the pause local, logged."""
        seconds = until - self.pauses.now()
        if seconds <= 0:
            return
        try:
            async with self.db.session() as session:
                await repository.pause_app(session, app_id, seconds)
        except Exception as exc:
            logger.warning("could not share the rate-limit pause of app %s: %r", app_id, exc)

    async def refresh(self) -> None:
        """Adopt the pauses other processes wrote (errors are the caller's to retry)."""
        async with self.db.session() as session:
            remaining = await repository.app_pauses(session)
        now = self.pauses.now()
        for app_id, seconds in remaining.items():
            self.pauses.adopt(app_id, now + seconds)

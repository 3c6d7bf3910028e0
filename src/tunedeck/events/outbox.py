"""The outbox of one database as this process sees it: whom to wake after a commit that
recorded events, and the lock that lets one relay of this process drain at a time.

It belongs to a ``Database`` (made in the app's lifespan, so to that app), never to the
module: two apps in one process with two databases (tests, the demo beside the simulator,
a worker) share no wake-up and no lock. ``record_event`` reaches it through the session:
the database's session factory carries it in its ``info``, which SQLAlchemy copies into
every session it makes (``Session.info``), the request's session included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tunedeck.kit.db import Database

# Key of the outbox in the sessions' ``info``.
SESSION_KEY = "tunedeck.events.outbox"


class Outbox:
    """Wake-ups and the drain lock of one database's outbox, in this process."""

    def __init__(self) -> None:
        self._wakers: set[Callable[[], None]] = set()
        # One relay of this process drains at a time (across processes: see the relay).
        self.drain_lock = asyncio.Lock()

    @classmethod
    def of(cls, db: Database) -> Outbox:
        """The outbox of ``db``, attached to its sessions on first use."""
        info: dict[str, Any] = dict(db.sessionmaker.kw.get("info") or {})
        outbox = info.get(SESSION_KEY)
        if isinstance(outbox, Outbox):
            return outbox
        outbox = cls()
        info[SESSION_KEY] = outbox
        db.sessionmaker.configure(info=info)
        return outbox

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` after every commit that recorded events (the relay registers here)."""
        self._wakers.add(wake)

    def remove_waker(self, wake: Callable[[], None]) -> None:
        self._wakers.discard(wake)

    @property
    def waker_count(self) -> int:
        return len(self._wakers)

    def wake(self) -> None:
        """Events were committed: wake the relays."""
        for wake in list(self._wakers):
            wake()


def outbox_of(session: Session) -> Outbox | None:
    """The outbox a session's commits wake (None for a session made elsewhere: the
    relay's polling still finds its events)."""
    outbox = session.info.get(SESSION_KEY)
    return outbox if isinstance(outbox, Outbox) else None

"""Units of work: the one place a session commits, and the outbox a commit wakes.

Every operation (of a service, called by a door, the command line or the demo) opens its
own unit of work around its reads and writes, through its context::

    async with ctx.begin() as work:
        ...  # work.session
    # committed here, once; rolled back if the block raised

Nothing else commits: services and repositories never do. A unit of work is short: an
operation that waits on Spotify opens none while it waits, so no transaction and no
pooled connection is held across the wait, and the fields of one GraphQL query, which run
concurrently, never share a session.

A unit of work also carries the database's :class:`Outbox`. Whoever writes outbox rows in
it says so (``work.wrote_outbox()``; ``events.recorder.record_event`` does), and once the
commit succeeded the outbox wakes whoever drains it (the event relay registers there).
A unit that wrote no outbox row, or rolled back, wakes nobody.

A unit of one statement (:meth:`UnitsOfWork.run_alone`: an action's event, written once
Spotify answered) needs no session: on PostgreSQL it runs on an autocommit connection,
which commits with the statement (one round trip where BEGIN, statement and COMMIT take
three), and wakes the outbox as a commit does. A read of one statement
(:meth:`UnitsOfWork.read_alone`: a page of a log) needs none either.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from tunedeck.kit import deps
from tunedeck.kit.db import Database


class Outbox:
    """The outbox of one database as this process sees it: whom to wake after a commit
    that wrote to it, and the lock that lets one drainer of this process work at a time.

    Made with the database by whoever owns it (``runtime.process_pieces``: the app's
    lifespan, a worker) and handed to its :class:`UnitsOfWork` and its relay: two apps in
    one process (tests, the demo beside the simulator) share no wake-up and no lock.
    """

    def __init__(self) -> None:
        self._wakers: set[Callable[[], None]] = set()
        # One relay of this process drains at a time (across processes: see the relay).
        self.drain_lock = asyncio.Lock()

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` after every commit that wrote outbox rows (the relay registers here)."""
        self._wakers.add(wake)

    def remove_waker(self, wake: Callable[[], None]) -> None:
        self._wakers.discard(wake)

    @property
    def waker_count(self) -> int:
        return len(self._wakers)

    def wake(self) -> None:
        """Rows were committed: wake the drainers."""
        for wake in list(self._wakers):
            wake()


class UnitOfWork:
    """One unit of work: its session, and whether it wrote rows to the outbox."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.outbox_rows = 0

    def wrote_outbox(self, rows: int = 1) -> None:
        """Rows were added to the outbox: the commit is to wake its drainers."""
        self.outbox_rows += rows


class UnitsOfWork:
    """Begins units of work on one database, each waking ``outbox`` when it committed
    outbox rows (``None``: nothing drains in this process, as at the command line; a
    relay elsewhere finds the rows when it polls)."""

    def __init__(self, db: Database, outbox: Outbox | None = None) -> None:
        self.db = db
        self.outbox = outbox

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work, committed when the block ends (rolled back if it raised)."""
        async with self.db.session() as session:  # commits or rolls back
            work = UnitOfWork(session)
            yield work
        if work.outbox_rows and self.outbox is not None:
            self.outbox.wake()

    async def run_alone(self, statement: Executable, *, outbox_rows: int = 0) -> None:
        """``statement`` as a unit of work of its own, committed when this returns; it
        wrote ``outbox_rows`` rows to the outbox (the outbox is woken for them)."""
        if self.db.backend == "postgresql":
            async with self.db.engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(statement)
        else:
            async with self.db.session() as session:  # SQLite: a transaction, committed
                await session.execute(statement)
        if outbox_rows and self.outbox is not None:
            self.outbox.wake()

    async def read_alone(self, statement: Executable) -> Sequence[Row[Any]]:
        """The rows of one read (``statement``) that needs no unit of work around it: on
        PostgreSQL on an autocommit connection, one round trip where BEGIN, the query and
        COMMIT take three. The rows are plain rows (ORM entities selected come back as
        their columns), read by attribute."""
        if self.db.backend == "postgresql":
            async with self.db.engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                return (await autocommit.execute(statement)).all()
        async with self.db.engine.connect() as conn:  # SQLite: its own short transaction
            return (await conn.execute(statement)).all()

    def __repr__(self) -> str:
        return f"UnitsOfWork({self.db!r})"


def get_units(conn: HTTPConnection) -> UnitsOfWork:
    """The app's units of work (the runtime's, made by the lifespan)."""
    return deps.kit_runtime(conn).units


UnitsDep = Annotated[UnitsOfWork, Depends(get_units)]

"""Named leases: each name has at most one owner at a time, until an expiry.

What for: handing work to exactly one process among several (each watched account to
one poller) without a scheduler. A process acquires names with a time to live, renews
them well before they expire, and releases them when it stops; when a process dies its
leases expire and another one takes them over. A lease is taken from its owner only
once it has expired: never while it is live.

All calls work on many names at once (one SQL statement for any number of names) and
each is its own short transaction, committed before the call returns: they run from
background loops, never inside a request's unit of work. They work on PostgreSQL and
SQLite (``INSERT ... ON CONFLICT ... DO UPDATE ... WHERE ... RETURNING``; SQLite 3.35+).

The clock
---------
Expiry is judged by one clock. On PostgreSQL it is the database server's: ``now()`` in
the statement (the start of its transaction), one clock for every process on every host,
so a host whose clock runs ahead cannot take a lease that is still live. SQLite has no
server: the database is a file on this machine, so "now" is this machine's UTC clock,
read once per call in Python (the clock every process using the file reads). Either way
a call reads "now" once (``now()`` in the statement, or :meth:`_Dialect.params`), and
every time it stores and compares comes from that one reading.

The holder's side of it: :attr:`Held.deadline` is a ``time.monotonic()`` value, the
moment just before the call plus the TTL. The database's "now" for the call comes after
that moment, so the lease lasts at least until the deadline (clocks running at the same
rate). Act on a lease only before its deadline, and renew it well before (e.g. every
third of the TTL).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, String, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base, Database, UTCDateTime, utcnow

NAME_LENGTH = 200
OWNER_LENGTH = 200


class Lease(Base):
    """One held (or expired, not yet taken) lease. A released lease has no row."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    owner: Mapped[str] = mapped_column(String(OWNER_LENGTH))
    # When this owner took it (kept by renewals), last renewed, and until when it holds.
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"Lease(name={self.name!r}, owner={self.owner!r})"


@dataclass(frozen=True)
class Held:
    """The names a call left held by its owner, and until when the owner may rely on them.

    ``deadline``: a ``time.monotonic()`` value before which they are surely still held.
    ``granted_at`` / ``expires_at``: the database's clock at the call and the expiry it
    stored (the same for every name of the call; None when no name is held).
    """

    names: frozenset[str]
    deadline: float
    granted_at: datetime | None = None
    expires_at: datetime | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class LeaseState:
    """A lease as stored (see :meth:`Leases.holders`)."""

    name: str
    owner: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


def new_owner(label: str = "") -> str:
    """A unique owner id, readable in the table: host, process id, a random part."""
    parts = [label] if label else []
    parts += [socket.gethostname(), str(os.getpid()), secrets.token_hex(4)]
    return ":".join(parts)[:OWNER_LENGTH]


# The statements, with the parts that differ between the databases left as {fields}:
# {now}: the call's "now"; {expires}: now + TTL; {names}: a row source of the given names
# as (name, pos); {name_set}: a subquery of the given names, for IN.
# Rows are written in name order: an upsert locks each conflicting row (even one it then
# leaves alone), so two processes taking overlapping sets lock them in the same order and
# cannot deadlock. ("WHERE true": SQLite's upsert after a SELECT needs a WHERE clause.)
_ACQUIRE = """
INSERT INTO leases (name, owner, acquired_at, renewed_at, expires_at)
SELECT c.name, :owner, {now}, {now}, {expires} FROM {names} WHERE true ORDER BY c.name
ON CONFLICT (name) DO UPDATE SET
    owner = excluded.owner,
    acquired_at = CASE WHEN leases.owner = excluded.owner
                       THEN leases.acquired_at ELSE excluded.acquired_at END,
    renewed_at = excluded.renewed_at,
    expires_at = excluded.expires_at
WHERE leases.owner = excluded.owner OR leases.expires_at <= excluded.renewed_at
RETURNING name, renewed_at, expires_at
"""

# The candidates nobody holds (no row, or expired) in the given order, up to :limit; the
# conflict clause re-checks each one, so a lease taken meanwhile by another process is
# left to it (the call then returns fewer names).
_ACQUIRE_FREE = """
WITH free AS (
    SELECT c.name AS name, c.pos AS pos FROM {names}
    LEFT JOIN leases AS l ON l.name = c.name
    WHERE l.name IS NULL OR l.expires_at <= {now}
    ORDER BY c.pos
    LIMIT :limit
)
INSERT INTO leases (name, owner, acquired_at, renewed_at, expires_at)
SELECT free.name, :owner, {now}, {now}, {expires} FROM free WHERE true ORDER BY free.name
ON CONFLICT (name) DO UPDATE SET
    owner = excluded.owner,
    acquired_at = excluded.acquired_at,
    renewed_at = excluded.renewed_at,
    expires_at = excluded.expires_at
WHERE leases.expires_at <= excluded.renewed_at
RETURNING name, renewed_at, expires_at
"""

# Still ours: renewed, even if it expired meanwhile (nobody else held it in between).
_RENEW = """
UPDATE leases SET renewed_at = {now}, expires_at = {expires}
WHERE name IN ({name_set}) AND owner = :owner
RETURNING name, renewed_at, expires_at
"""

_RELEASE = """
DELETE FROM leases WHERE name IN ({name_set}) AND owner = :owner RETURNING name
"""


# How each database spells those parts. Nothing in them depends on the names' count, so
# each statement has one text whatever the batch (PostgreSQL prepares it once).
_POSTGRES = {
    "now": "now()",
    "expires": "now() + make_interval(secs => :ttl)",
    "names": "unnest(CAST(:names AS text[])) WITH ORDINALITY AS c(name, pos)",
    "name_set": "SELECT unnest(CAST(:names AS text[]))",
}
_SQLITE = {
    "now": ":now",
    "expires": ":expires",
    "names": "(SELECT value AS name, key AS pos FROM json_each(:names)) AS c",
    "name_set": "SELECT value FROM json_each(:names)",
}


class _Dialect:
    """The statements of one database, and their parameters."""

    def __init__(self, backend: str) -> None:
        self.postgres = backend == "postgresql"
        spelled = _POSTGRES if self.postgres else _SQLITE
        self.acquire = self._compile(_ACQUIRE.format(**spelled), timed=True)
        self.acquire_free = self._compile(_ACQUIRE_FREE.format(**spelled), timed=True)
        self.renew = self._compile(_RENEW.format(**spelled), timed=True)
        self.release = self._compile(_RELEASE.format(**spelled), timed=False)

    def _compile(self, sql: str, *, timed: bool) -> Executable:
        statement = text(sql)
        if self.postgres:
            statement = statement.bindparams(bindparam("names", type_=ARRAY(String)))
        elif timed:
            # Bound like the columns, so SQLite compares times written the same way.
            statement = statement.bindparams(
                bindparam("now", type_=UTCDateTime()), bindparam("expires", type_=UTCDateTime())
            )
        if timed:
            return statement.columns(name=String, renewed_at=UTCDateTime, expires_at=UTCDateTime)
        return statement

    def params(self, names: list[str], owner: str, ttl: float | None = None) -> dict[str, Any]:
        """A call's parameters. On SQLite this is the one place the clock is read."""
        params: dict[str, Any] = {"owner": owner}
        if self.postgres:
            params["names"] = names
            if ttl is not None:
                params["ttl"] = float(ttl)
            return params
        params["names"] = json.dumps(names)
        if ttl is not None:
            now = utcnow()
            params.update(now=now, expires=now + timedelta(seconds=ttl))
        return params


class Leases:
    """The leases of one database (the ``leases`` table, migration 0004)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._dialect = _Dialect(db.backend)

    async def acquire(self, names: Iterable[str], owner: str, ttl: float) -> Held:
        """Take every name that is free, expired, or already ``owner``'s (extended to
        ``ttl`` seconds from now); return the names ``owner`` now holds among them."""
        return await self._grant(self._dialect.acquire, _names(names), owner, ttl)

    async def acquire_free(
        self, candidates: Iterable[str], owner: str, ttl: float, *, limit: int
    ) -> Held:
        """Take up to ``limit`` of the ``candidates`` that nobody holds (free or expired),
        in the order given; names ``owner`` holds already are not counted or returned.

        The way to take a share of the work: ``limit`` is this process's spare capacity.
        """
        if limit < 0:
            raise ValueError("limit must not be negative")
        if limit == 0:
            return Held(frozenset(), time.monotonic())
        return await self._grant(
            self._dialect.acquire_free, _names(candidates), owner, ttl, limit=limit
        )

    async def renew(self, names: Iterable[str], owner: str, ttl: float) -> Held:
        """Extend the names ``owner`` still holds to ``ttl`` seconds from now; return them.

        A name missing from the result was taken by another owner after it expired (or
        released): stop acting on it.
        """
        return await self._grant(self._dialect.renew, _names(names), owner, ttl)

    async def release(self, names: Iterable[str], owner: str) -> frozenset[str]:
        """Give up the names ``owner`` holds; return those that were released."""
        wanted = _names(names)
        if not wanted:
            return frozenset()
        params = self._dialect.params(wanted, owner)
        async with self.db.session() as session:
            result = await session.execute(self._dialect.release, params)
            return frozenset(row[0] for row in result)

    async def holders(self, names: Iterable[str]) -> dict[str, LeaseState]:
        """The stored leases among ``names`` (expired ones included), by name."""
        wanted = _names(names)
        if not wanted:
            return {}
        async with self.db.session() as session:
            rows = await session.scalars(select(Lease).where(Lease.name.in_(wanted)))
            return {
                row.name: LeaseState(
                    row.name, row.owner, row.acquired_at, row.renewed_at, row.expires_at
                )
                for row in rows
            }

    async def _grant(
        self, statement: Executable, names: list[str], owner: str, ttl: float, **extra: Any
    ) -> Held:
        if not ttl > 0:
            raise ValueError("ttl must be positive")
        if len(owner) > OWNER_LENGTH:
            raise ValueError(f"owner longer than {OWNER_LENGTH} characters")
        started = time.monotonic()
        if not names:
            return Held(frozenset(), started + ttl)
        params = {**self._dialect.params(names, owner, ttl), **extra}
        async with self.db.session() as session:
            rows = (await session.execute(statement, params)).all()
        if not rows:
            return Held(frozenset(), started + ttl)
        return Held(
            frozenset(row.name for row in rows),
            started + ttl,
            granted_at=rows[0].renewed_at,
            expires_at=rows[0].expires_at,
        )


def _names(names: Iterable[str]) -> list[str]:
    """The names once each, in order (a statement may not touch a row twice)."""
    unique = list(dict.fromkeys(names))
    for name in unique:
        if not name or len(name) > NAME_LENGTH:
            raise ValueError(f"a lease name has 1 to {NAME_LENGTH} characters: {name[:50]!r}")
    return unique

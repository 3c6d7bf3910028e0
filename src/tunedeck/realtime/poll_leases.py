"""Which watched accounts this process polls: its ``poll:<account id>`` leases.

Each watched account is polled by exactly one process. A process takes the accounts
nobody holds (``kit.leases``: a live lease is never taken, an expired one is), renews
all of its leases in one statement well before they expire, and gives back those no
longer watched. If it dies, its leases expire and other processes take the accounts
over within the TTL.

Every poller also holds a *membership* lease (``poller-member:<owner>``), renewed just
before its accounts' (so it expires first when the process dies): counting the live
ones tells each process how many share the work, hence its fair share
(:mod:`.poller`).

A lease is only acted on before its :meth:`PollLeases.deadline` (the holder's clock:
just before the call that granted it, plus the TTL), less a margin as long as a poll
may last: a process that could not renew in time stops polling *before* another one
may take the account, so two processes never poll it in the same interval.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable

from tunedeck.kit.leases import NAME_LENGTH, Leases
from tunedeck.realtime import repository

PREFIX = "poll:"
MEMBER_PREFIX = "poller-member:"


def lease_name(account_id: uuid.UUID) -> str:
    return f"{PREFIX}{account_id}"


def account_of(name: str) -> uuid.UUID:
    return uuid.UUID(name.removeprefix(PREFIX))


class PollLeases:
    """This process's poll leases and their deadlines."""

    def __init__(
        self,
        leases: Leases,
        owner: str,
        ttl: float,
        *,
        margin: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leases = leases
        self.owner = owner
        self.ttl = ttl
        self.margin = margin
        self._clock = clock
        self._deadlines: dict[uuid.UUID, float] = {}
        self.member = f"{MEMBER_PREFIX}{owner}"[:NAME_LENGTH]

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._deadlines

    def __len__(self) -> int:
        return len(self._deadlines)

    @property
    def held(self) -> set[uuid.UUID]:
        return set(self._deadlines)

    def deadline(self, account_id: uuid.UUID) -> float | None:
        """Until when (the holder's clock) the lease is surely this process's."""
        return self._deadlines.get(account_id)

    def usable(self, account_id: uuid.UUID) -> bool:
        """Whether a poll of the account may start now: the lease outlives it."""
        deadline = self._deadlines.get(account_id)
        return deadline is not None and self._clock() + self.margin < deadline

    async def join(self) -> None:
        """Take (or renew) this poller's membership lease."""
        await self.leases.acquire([self.member], self.owner, self.ttl)

    async def members(self) -> int:
        """How many pollers are alive (this one included, once it joined)."""
        async with self.leases.db.session() as session:
            return max(1, await repository.live_leases(session, MEMBER_PREFIX))

    async def leave(self) -> None:
        """Give the membership lease back (stopping)."""
        await self.leases.release([self.member], self.owner)

    async def take(self, candidates: Iterable[uuid.UUID], limit: int) -> set[uuid.UUID]:
        """Take up to ``limit`` of the candidates nobody holds, in the order given."""
        names = [lease_name(a) for a in candidates if a not in self._deadlines]
        if not names or limit <= 0:
            return set()
        held = await self.leases.acquire_free(names, self.owner, self.ttl, limit=limit)
        accounts = {account_of(name) for name in held}
        for account in accounts:
            self._deadlines[account] = held.deadline
        return accounts

    async def renew(self) -> set[uuid.UUID]:
        """Renew every lease held; returns the accounts lost (taken by another process
        after they expired): stop polling them."""
        asked = set(self._deadlines)
        if not asked:
            return set()
        held = await self.leases.renew([lease_name(a) for a in asked], self.owner, self.ttl)
        kept = {account_of(name) for name in held}
        for account in kept & set(self._deadlines):  # not those released meanwhile
            self._deadlines[account] = held.deadline
        lost = (asked - kept) & set(self._deadlines)
        for account in lost:
            del self._deadlines[account]
        return lost

    async def release(self, accounts: Iterable[uuid.UUID]) -> None:
        """Give the accounts' leases back (no longer watched here, or stopping)."""
        given = [a for a in accounts if self._deadlines.pop(a, None) is not None]
        if given:
            await self.leases.release([lease_name(a) for a in given], self.owner)

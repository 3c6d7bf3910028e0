"""One OS process of the cross-process lease test (tests/kit/test_leases.py).

    python lease_worker.py DB_URL LEASE_NAME OWNER TTL

Competes for one lease: tries to acquire it every ``POLL`` seconds while not holding it,
renews it every ``TTL / 5`` seconds while holding it. To hand the lease over, after
``HANDOVER_AFTER`` renewals it stops renewing, lets the lease expire and waits until the
other process has taken it (or ``PAUSE_LIMIT`` passed), then competes again. SIGUSR1
ends the handovers (the holder keeps the lease); SIGTERM releases it and exits.

Prints one JSON line per event: ``{"ready": owner}`` once, then per lease granted
(acquired or renewed)::

    {"owner", "kind": "acquire"|"renew", "t0", "t1", "deadline", "granted_at", "expires_at"}

``t0``/``t1``: ``time.monotonic()`` just before the call and when it returned (the same
clock in every process of the machine); ``deadline``: until when this process believes it
holds the lease; ``granted_at``/``expires_at``: the database's clock (ISO 8601).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any

from tunedeck.kit.background import SupervisedTask, wait_any
from tunedeck.kit.db import Database
from tunedeck.kit.leases import Held, Leases

POLL = 0.02
HANDOVER_AFTER = 2
PAUSE_LIMIT = 15.0


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class Worker:
    def __init__(self, leases: Leases, name: str, owner: str, ttl: float) -> None:
        self.leases = leases
        self.name = name
        self.owner = owner
        self.ttl = ttl
        self.steady = asyncio.Event()

    def granted(self, kind: str, t0: float, held: Held) -> None:
        assert held.granted_at is not None
        assert held.expires_at is not None
        emit(
            owner=self.owner,
            kind=kind,
            t0=t0,
            t1=time.monotonic(),
            deadline=held.deadline,
            granted_at=held.granted_at.isoformat(),
            expires_at=held.expires_at.isoformat(),
        )

    async def run(self, stopping: asyncio.Event) -> None:
        try:
            while not stopping.is_set():
                deadline = await self.take(stopping)
                if deadline is None:
                    return
                await self.hold(stopping, deadline)
        finally:
            # The graceful end (SIGTERM): give the lease back rather than let it expire.
            if stopping.is_set():
                await self.leases.release([self.name], self.owner)

    async def take(self, stopping: asyncio.Event) -> float | None:
        """Acquire the lease; its deadline, or None when stopping."""
        while not stopping.is_set():
            t0 = time.monotonic()
            held = await self.leases.acquire([self.name], self.owner, self.ttl)
            if self.name in held:
                self.granted("acquire", t0, held)
                return held.deadline
            await wait_any(stopping, within=POLL)
        return None

    async def hold(self, stopping: asyncio.Event, deadline: float) -> None:
        """Renew until the lease is lost or handed over."""
        renewals = 0
        while not stopping.is_set():
            if await wait_any(stopping, within=self.ttl / 5):
                return
            if renewals >= HANDOVER_AFTER and not self.steady.is_set():
                await self.hand_over(stopping, deadline)
                return
            t0 = time.monotonic()
            held = await self.leases.renew([self.name], self.owner, self.ttl)
            if self.name not in held:
                return
            self.granted("renew", t0, held)
            deadline = held.deadline
            renewals += 1

    async def hand_over(self, stopping: asyncio.Event, deadline: float) -> None:
        """Stop renewing; once the lease has expired, wait for the other process to take it."""
        await wait_any(stopping, within=max(0.0, deadline - time.monotonic()))
        limit = time.monotonic() + PAUSE_LIMIT
        while not stopping.is_set() and time.monotonic() < limit:
            state = (await self.leases.holders([self.name])).get(self.name)
            if state is not None and state.owner != self.owner:
                return
            await wait_any(stopping, within=POLL)


async def main(url: str, name: str, owner: str, ttl: float) -> None:
    db = Database(url)
    worker = Worker(Leases(db), name, owner, ttl)
    task = SupervisedTask(f"lease-worker-{owner}", worker.run)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, worker.steady.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with task:
            emit(ready=owner)
            await stop.wait()
    finally:
        await db.dispose()


if __name__ == "__main__":
    db_url, lease_name, lease_owner, lease_ttl = sys.argv[1:]
    asyncio.run(main(db_url, lease_name, lease_owner, float(lease_ttl)))

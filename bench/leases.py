"""Leases (kit/leases.py) in bulk, on PostgreSQL and SQLite: what taking and renewing
1,000 leases in one call costs, against baselines measured in the same run.

- acquire-1000 / renew-1000: one call each, for 1,000 fresh names (median of ``ROUNDS``);
- baselines: one trivial transaction (``SELECT 1``, the cost of any call) and one
  single-name acquire; the ratios say how many of those one bulk call is worth
  (goal: acquire-1000 and renew-1000 well under a second, far below 1,000 single calls).

Creates its own PostgreSQL database on the machine's server (dropped after) and a
temporary SQLite file.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from sqlalchemy import text

from bench.databases import postgres_database, sqlite_database
from tunedeck.kit.db import Database
from tunedeck.kit.leases import Leases

BULK = 1000
ROUNDS = 15
SINGLES = 200
TTL = 60.0


async def measure(url: str) -> dict[str, float]:
    db = Database(url)
    leases = Leases(db)
    owner = "bench"

    async def select_one() -> None:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))

    try:
        for _ in range(20):  # warm the pool and the statements
            await select_one()
        await leases.acquire([f"warm:{i}" for i in range(BULK)], owner, TTL)
        await leases.renew([f"warm:{i}" for i in range(BULK)], owner, TTL)

        trivial: list[float] = []
        single: list[float] = []
        for n in range(SINGLES):
            started = time.perf_counter()
            await select_one()
            trivial.append(time.perf_counter() - started)
            started = time.perf_counter()
            await leases.acquire([f"single:{n}"], owner, TTL)
            single.append(time.perf_counter() - started)
        acquire: list[float] = []
        renew: list[float] = []
        for round_ in range(ROUNDS):
            names = [f"bulk:{round_}:{i}" for i in range(BULK)]
            started = time.perf_counter()
            held = await leases.acquire(names, owner, TTL)
            acquire.append(time.perf_counter() - started)
            started = time.perf_counter()
            renewed = await leases.renew(names, owner, TTL)
            renew.append(time.perf_counter() - started)
            assert len(held) == len(renewed) == BULK
    finally:
        await db.dispose()
    return {
        "trivial": statistics.median(trivial),
        "single": statistics.median(single),
        "acquire": statistics.median(acquire),
        "renew": statistics.median(renew),
    }


def report(backend: str, figures: dict[str, float]) -> None:
    trivial, single = figures["trivial"], figures["single"]
    print(f"{backend}:")
    print(f"  {'SELECT 1 round trip (own transaction)':<38} {trivial * 1000:8.2f} ms")
    print(f"  {'acquire 1 lease':<38} {single * 1000:8.2f} ms")
    for what in ("acquire", "renew"):
        seconds = figures[what]
        print(
            f"  {f'{what}-{BULK} (one call)':<38} {seconds * 1000:8.2f} ms"
            f" = {seconds / trivial:5.1f} x SELECT 1"
            f" = {seconds / single:5.1f} x acquire-1"
            f" ({BULK * single / seconds:4.0f} x faster than {BULK} single acquires)"
        )


async def run() -> None:
    print(f"median of {ROUNDS} rounds of {BULK} fresh names; baselines median of {SINGLES}")
    async with sqlite_database() as url:
        report("SQLite", await measure(url))
    async with postgres_database() as url:
        report("PostgreSQL", await measure(url))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()

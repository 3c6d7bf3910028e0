"""What each process of a cluster pays for the accounts of the others (docs/scaling.md).

Two per-unit costs that grow with the whole deployment rather than with one process's
share, measured against baselines in the same run:

- watched-set read: every poller reads the whole watched set at each reconcile
  (``realtime.repository.watched_accounts``, every second by default). Median time of
  one read with 10,000 and 100,000 heartbeat rows on PostgreSQL; baseline: one trivial
  transaction (``SELECT 1``). Beside it, the read of the accounts with a stream open
  (``history.repository.accounts_streaming``, also in the watched set): 1,000 open among
  ten closed per account of 10,000.
- bus messages received: every process holds one pattern subscription to all accounts'
  channels (``events.bus.RedisBus``) and parses every message to find the few its clients
  want. A subscriber process is sent ``MESSAGES`` messages on other accounts' channels,
  then as many on the one account it has a subscriber for; its CPU time per message
  for each (the second is the baseline: a message it delivers).

Creates its own PostgreSQL database (dropped after); uses the machine's Redis under a
namespace of its own (no other process's subscription matches its channels).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import timedelta

import redis.asyncio as redis
from sqlalchemy import insert, text

from bench.databases import REDIS_URL, postgres_database
from tunedeck.accounts.models import Account
from tunedeck.history import repository as history_repository
from tunedeck.history.models import Stream
from tunedeck.kit.db import Database, utcnow
from tunedeck.realtime import repository
from tunedeck.realtime.models import RealtimeWatcher

WATCHED_SIZES = (10_000, 100_000)
STREAM_ACCOUNTS = 10_000
OPEN_STREAMS = 1_000
CLOSED_PER_ACCOUNT = 10
READS = 15
MESSAGES = 20_000
EVENT = {
    "type": "event",
    "event": {
        "id": str(uuid.uuid4()),
        "account_id": str(uuid.uuid4()),
        "type": "spotify:skip",
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "actor": {"key_id": str(uuid.uuid4()), "label": "bench", "kind": "api_key"},
        "params": {},
        "track": {
            "name": "Bench track",
            "artists": ["Bench artist"],
            "album": "Bench album",
            "art_url": "https://i.scdn.co/image/bench",
            "uri": "spotify:track:bench",
            "duration_ms": 200000,
            "progress_ms": 1000,
        },
    },
}


async def median_ms(call: object, rounds: int = READS) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def watched_reads() -> None:
    async with postgres_database() as url:
        db = Database(url)
        try:

            async def trivial() -> None:
                async with db.session() as session:
                    await session.execute(text("SELECT 1"))

            async def read() -> None:
                async with db.session() as session:
                    await repository.watched_accounts(session)

            for _ in range(20):
                await trivial()
            baseline = await median_ms(trivial, 50)
            print(f"SELECT 1 (baseline):           {baseline:7.2f} ms")
            expires = utcnow() + timedelta(hours=1)
            written = 0
            for size in WATCHED_SIZES:
                async with db.session() as session:
                    rows = [
                        {"account_id": uuid.uuid4(), "process_id": "bench", "expires_at": expires}
                        for _ in range(size - written)
                    ]
                    for start in range(0, len(rows), 5000):
                        await session.execute(insert(RealtimeWatcher), rows[start : start + 5000])
                    await session.commit()
                written = size
                async with db.session() as session:
                    await session.execute(text("ANALYZE realtime_watchers"))
                    await session.commit()
                await read()  # warm
                took = await median_ms(read)
                print(
                    f"watched-set read, {size:>7,} rows: {took:7.2f} ms"
                    f"  ({took / baseline:5.1f}x SELECT 1; {took * 1000 / size:.2f} us/row)"
                )
            await streaming_reads(db, baseline)
        finally:
            await db.dispose()


async def streaming_reads(db: Database, baseline: float) -> None:
    """The watched set's open streams: OPEN_STREAMS of them among CLOSED_PER_ACCOUNT closed
    ones per account of STREAM_ACCOUNTS (read through the partial index of open streams)."""
    now = utcnow()
    accounts = [{"id": uuid.uuid4(), "name": f"bench-{i}"} for i in range(STREAM_ACCOUNTS)]
    streams = [
        {
            "id": uuid.uuid4(),
            "account_id": account["id"],
            "started_at": now - timedelta(days=day + 1),
            "stopped_at": now - timedelta(days=day + 1, hours=-3),
            "started_by": "bench",
        }
        for account in accounts
        for day in range(CLOSED_PER_ACCOUNT)
    ]
    streams += [
        {"id": uuid.uuid4(), "account_id": account["id"], "started_by": "bench"}
        for account in accounts[:OPEN_STREAMS]
    ]
    async with db.session() as session:
        await session.execute(insert(Account), accounts)
        for start in range(0, len(streams), 5000):
            await session.execute(insert(Stream), streams[start : start + 5000])
        await session.commit()
    async with db.session() as session:
        await session.execute(text("ANALYZE streams"))
        await session.commit()

    async def read() -> None:
        async with db.session() as session:
            assert len(await history_repository.accounts_streaming(session)) == OPEN_STREAMS

    await read()  # warm
    took = await median_ms(read)
    print(
        f"open streams read, {OPEN_STREAMS:,} of {len(streams):,}: {took:7.2f} ms"
        f"  ({took / baseline:5.1f}x SELECT 1)"
    )


SUBSCRIBER = textwrap.dedent(
    """
    import asyncio, sys, time, uuid
    from tunedeck.events.bus import RedisBus

    async def main() -> None:
        url, namespace, mine, count = sys.argv[1:5]
        bus = RedisBus(url, namespace=namespace)
        await bus.start()
        assert await bus.wait_ready(10)
        async with bus.subscribe(uuid.UUID(mine)) as subscription:
            print(time.process_time(), flush=True)  # ready
            await subscription.get()  # the mark, published after the others' messages
            print(time.process_time(), flush=True)
            for _ in range(int(count)):
                await subscription.get()
            print(time.process_time(), flush=True)
        await bus.close()

    asyncio.run(main())
    """
)


async def bus_receive() -> None:
    namespace = f"tunedeck-bench-{secrets.token_hex(4)}"
    prefix = f"{namespace}:account:"  # the bus's channels: <namespace>:account:<id>
    mine = uuid.uuid4()
    others = [f"{prefix}{uuid.uuid4()}" for _ in range(1000)]
    body = json.dumps({"id": 1, **EVENT}, separators=(",", ":"))
    process = subprocess.Popen(  # noqa: ASYNC220 (its output is read line by line below)
        [sys.executable, "-c", SUBSCRIBER, REDIS_URL, namespace, str(mine), str(MESSAGES)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    client = redis.Redis.from_url(REDIS_URL)

    async def publish(channels: list[str], count: int) -> None:
        for start in range(0, count, 1000):
            async with client.pipeline(transaction=False) as pipe:
                for n in range(start, min(count, start + 1000)):
                    pipe.publish(channels[n % len(channels)], body)
                await pipe.execute()

    try:
        ready = float(process.stdout.readline())
        # One connection delivers in order: the others' messages are all read before the mark.
        await publish(others, MESSAGES)
        await publish([f"{prefix}{mine}"], 1)
        marked = float(process.stdout.readline())
        await publish([f"{prefix}{mine}"], MESSAGES)
        done = float(process.stdout.readline())
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        await client.aclose()
    per_other = (marked - ready) / MESSAGES * 1e6
    per_mine = (done - marked) / MESSAGES * 1e6
    print(f"bus message, another account's channel: {per_other:6.1f} us CPU (parsed, dropped)")
    print(f"bus message, a local subscriber (base):  {per_mine:6.1f} us CPU")
    print(f"ratio dropped / delivered: {per_other / per_mine:.2f}")


def main() -> None:
    asyncio.run(watched_reads())
    asyncio.run(bus_receive())


if __name__ == "__main__":
    main()

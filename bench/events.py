"""Events on PostgreSQL + Redis: how fast they are recorded and relayed, and what
recording adds to an action.

Creates its own database (dropped after) on the machine's PostgreSQL and uses the
machine's Redis (channels of fresh accounts only):

- recording: concurrent actions, each its own transaction with one event (events/s);
- relaying a backlog: the outbox drained into ``platform_events`` and onto Redis, as
  after an outage (events/s, as a ratio of the recording rate);
- live: recording with the relay running, each event timed from its record to its
  arrival on a Redis subscriber (events/s and lag p50/p95);
- per action: the same authenticated request through the app with and without
  recording an event, interleaved, in one run (p50/p95 and the difference; goal p50
  added under 5 ms).
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI

from bench.databases import REDIS_URL, postgres_database
from tunedeck.accounts import service as accounts
from tunedeck.accounts.auth import requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events import repository
from tunedeck.events.bus import RedisBus
from tunedeck.events.recorder import record_event
from tunedeck.events.relay import EventRelay
from tunedeck.events.schemas import Actor, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database, SessionDep, utcnow

ACCOUNTS = 10
EVENTS = 4000
WRITERS = 20
REQUESTS = 600  # per variant
WARMUP = 50

ACTOR = Actor(key_id=str(uuid.uuid4()), label="bench", kind="api_key")
TRACK = TrackSnapshot(
    name="Bench track",
    artists=["Bench artist", "Guest"],
    album="Bench album",
    art_url="https://i.scdn.co/image/bench",
    uri="spotify:track:bench",
    duration_ms=200_000,
    progress_ms=1_000,
)


async def record_one(db: Database, account_id: uuid.UUID, n: int) -> None:
    async with db.session() as session:
        await record_event(
            session,
            account_id=account_id,
            event_type=EventType.VOLUME,
            actor=ACTOR,
            params={"old_volume": n % 100, "new_volume": (n + 1) % 100},
            track=TRACK,
        )


async def record_concurrently(db: Database, account_ids: list[uuid.UUID], total: int) -> float:
    """Record ``total`` events from ``WRITERS`` concurrent actions; return the seconds taken."""

    async def writer(w: int) -> None:
        for i in range(w, total, WRITERS):
            await record_one(db, account_ids[i % len(account_ids)], i)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    return time.perf_counter() - started


class Arrivals:
    """Counts the events arriving on the bus for some accounts, with their lag."""

    def __init__(self, bus: RedisBus, account_ids: list[uuid.UUID]) -> None:
        self.count = 0
        self.lags: list[float] = []
        self.done = asyncio.Event()
        self.expected = 0
        self._tasks = [asyncio.create_task(self._read(bus, a)) for a in account_ids]
        self._ready = asyncio.Event()

    async def _read(self, bus: RedisBus, account_id: uuid.UUID) -> None:
        async with bus.subscribe(account_id) as sub:
            async for message in sub:
                self.count += 1
                sent = datetime.fromisoformat(message["event"]["occurred_at"])
                self.lags.append((utcnow() - sent).total_seconds())
                if self.count >= self.expected:
                    self.done.set()

    async def wait(self, expected: int, within: float = 120) -> None:
        self.expected = expected
        if self.count < expected:
            await asyncio.wait_for(self.done.wait(), within)

    def reset(self) -> None:
        self.count = 0
        self.lags = []
        self.done.clear()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def throughput(url: str) -> dict[str, float]:
    db = Database(url)
    bus = RedisBus(REDIS_URL)
    await bus.start()
    try:
        async with db.session() as session:
            account_ids = [
                (await accounts.create_account(session, f"bench-{secrets.token_hex(4)}")).id
                for _ in range(ACCOUNTS)
            ]
        arrivals = Arrivals(bus, account_ids)
        await bus.wait_ready(5)
        await record_concurrently(db, account_ids, 200)  # warm-up, relayed below

        # A backlog, as after an outage: recorded with no relay, then drained.
        record_s = await record_concurrently(db, account_ids, EVENTS)
        relay = EventRelay(db, bus)
        started = time.perf_counter()
        await relay.start()
        await arrivals.wait(EVENTS + 200)
        while True:
            async with db.session() as session:
                if await repository.outbox_size(session) == 0:
                    break
            await asyncio.sleep(0.01)
        backlog_s = time.perf_counter() - started

        # Live: recording while the relay runs.
        arrivals.reset()
        started = time.perf_counter()
        await record_concurrently(db, account_ids, EVENTS)
        await arrivals.wait(EVENTS)
        live_s = time.perf_counter() - started
        lags = arrivals.lags
        await relay.stop()
        await arrivals.close()
    finally:
        await bus.close()
        await db.dispose()
    return {
        "record": EVENTS / record_s,
        "backlog": EVENTS / backlog_s,
        "live": EVENTS / live_s,
        "lag_p50": pct(lags, 0.5) * 1000,
        "lag_p95": pct(lags, 0.95) * 1000,
    }


Playback = Annotated[Principal, Depends(requires(Permission.SPOTIFY_PLAYBACK))]


def bench_app(settings: Settings) -> FastAPI:
    """The real app plus one action that records an event and its twin that does not."""
    router = APIRouter()

    @router.post("/bench/with-event")
    async def with_event(principal: Playback, session: SessionDep) -> dict[str, Any]:
        event = await record_event(
            session,
            account_id=principal.account_id,
            event_type=EventType.SEEK,
            actor=Actor.from_principal(principal),
            params={"position_ms": 1000},
            track=TRACK,
        )
        return {"ok": True, "event": str(event.id)}

    @router.post("/bench/without-event")
    async def without_event(principal: Playback, session: SessionDep) -> dict[str, Any]:
        return {"ok": True, "event": None}

    app = create_app(settings)
    app.include_router(router)
    return app


async def action_latency(url: str) -> dict[str, float]:
    settings = Settings(
        database_url=url, redis_url=REDIS_URL, encryption_keys=Keyring.generate().serialize()
    )
    app = bench_app(settings)
    async with app.router.lifespan_context(app):
        db: Database = app.state.db
        async with db.session() as session:
            account = await accounts.create_account(session, f"bench-{secrets.token_hex(4)}")
            key = await accounts.create_api_key(session, account.id, "bench", ["spotify:playback"])
        headers = {"Authorization": f"Bearer {key.secret}"}
        transport = httpx.ASGITransport(app=app)
        timings: dict[str, list[float]] = {"with": [], "without": []}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(WARMUP + REQUESTS):
                # Interleaved, so both variants see the same machine.
                for variant in ("with", "without") if i % 2 else ("without", "with"):
                    started = time.perf_counter()
                    r = await client.post(f"/bench/{variant}-event", headers=headers)
                    elapsed = time.perf_counter() - started
                    assert r.status_code == 200, r.text
                    if i >= WARMUP:
                        timings[variant].append(elapsed * 1000)
    return {
        f"{variant}_{q}": pct(values, p)
        for variant, values in timings.items()
        for q, p in (("p50", 0.5), ("p95", 0.95))
    } | {"with_mean": statistics.fmean(timings["with"])}


async def run() -> None:
    async with postgres_database() as url:
        figures = await throughput(url)
        latency = await action_latency(url)
    print(f"PostgreSQL + Redis, {ACCOUNTS} accounts, {WRITERS} concurrent actions")
    print(f"  recording (one event per transaction)   {figures['record']:8.0f} events/s")
    print(
        f"  relaying a backlog of {EVENTS} (store+publish) {figures['backlog']:8.0f} events/s"
        f"   x{figures['backlog'] / figures['record']:.2f} of recording"
    )
    print(
        f"  live, recorded and relayed              {figures['live']:8.0f} events/s"
        f"   x{figures['live'] / figures['record']:.2f} of recording"
    )
    print(
        f"  live lag record -> subscriber           p50 {figures['lag_p50']:6.1f} ms"
        f"   p95 {figures['lag_p95']:6.1f} ms"
    )
    added50 = latency["with_p50"] - latency["without_p50"]
    added95 = latency["with_p95"] - latency["without_p95"]
    print(f"authenticated action through the app, {REQUESTS} of each, interleaved")
    for variant in ("without", "with"):
        print(
            f"  {variant + ' event':<14} p50 {latency[variant + '_p50']:6.2f} ms"
            f"   p95 {latency[variant + '_p95']:6.2f} ms"
        )
    print(
        f"  added          p50 {added50:6.2f} ms   p95 {added95:6.2f} ms"
        f"   x{latency['with_p50'] / latency['without_p50']:.2f} at p50"
        f"   (goal: p50 added < 5 ms: {'met' if added50 < 5 else 'NOT met'})"
    )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()

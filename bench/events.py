"""Events on PostgreSQL + Redis: how fast they are recorded and relayed, and what
recording adds to an action.

Creates its own database (dropped after) on the machine's PostgreSQL and uses the
machine's Redis (channels of fresh accounts only):

- recording: concurrent actions, each its own transaction with one event (events/s);
- relaying a backlog: the outbox drained into ``platform_events`` and onto Redis, as
  after an outage (events/s, as a ratio of the recording rate);
- live: recording with the relay running, each event timed from its record to its
  arrival on a Redis subscriber (events/s and lag p50/p95);
- per action: the same authenticated request through the app (set up as ``serve``
  runs it, ``bench.apps``) with and without recording an event, interleaved, in one run:
  p50/p95 of each, the difference (goal: p95 added at most 2 ms) and the process's CPU
  time per request of each (the relay's work on the event included, wherever it lands).

The relay phases run twice in the same run, on the same machine: with the relay as it
was before batching (``BaselineRelay`` below: ORM rows, each row validated, stored then
marked, read again for the publish, one Redis script call per message, marked
published, then deleted) and with today's relay; the ratios compare the two. The
process's CPU time per relayed event is printed too: on a shared machine it moves less
than the wall-clock rates do.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from bench.apps import served
from bench.databases import REDIS_URL, postgres_database
from tunedeck.accounts import service as accounts
from tunedeck.accounts.auth import requires
from tunedeck.accounts.context import operator
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events import repository
from tunedeck.events.bus import BusUnavailable, Outgoing, RedisBus
from tunedeck.events.drain import DrainResult
from tunedeck.events.models import OutboxEvent, PlatformEvent
from tunedeck.events.recorder import record_event, record_event_alone
from tunedeck.events.relay import EventRelay
from tunedeck.events.schemas import Actor, EventOut, TrackSnapshot, event_message
from tunedeck.events.types import EventType
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.unit_of_work import Outbox, UnitsDep, UnitsOfWork
from tunedeck.runtime import app_runtime

# The bench's own keys and channels on the shared Redis: no other process hears them.
NAMESPACE = "tunedeck-bench"
ACCOUNTS = 10
EVENTS = 4000
WRITERS = 20
PACED_SECONDS = 5
REQUESTS = 1000  # per variant
WARMUP = 100
ADDED_P95_GOAL_MS = 2.0

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


async def record_one(units: UnitsOfWork, account_id: uuid.UUID, n: int) -> None:
    async with units.begin() as work:
        await record_event(
            work,
            account_id=account_id,
            event_type=EventType.VOLUME,
            actor=ACTOR,
            params={"old_volume": n % 100, "new_volume": (n + 1) % 100},
            track=TRACK,
        )


async def record_concurrently(
    units: UnitsOfWork, account_ids: list[uuid.UUID], total: int
) -> float:
    """Record ``total`` events from ``WRITERS`` concurrent actions; return the seconds taken."""

    async def writer(w: int) -> None:
        for i in range(w, total, WRITERS):
            await record_one(units, account_ids[i % len(account_ids)], i)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    return time.perf_counter() - started


async def record_paced(
    units: UnitsOfWork, account_ids: list[uuid.UUID], total: int, rate: float
) -> None:
    """Record ``total`` events, one action every ``1 / rate`` seconds (not waiting for
    the previous one)."""
    started = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(record_one(units, account_ids[i % len(account_ids)], i)))
    await asyncio.gather(*tasks)


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


class BaselineRelay(EventRelay):
    """The relay's pass as it was before batching, for the same-run comparison."""

    PUBLISH_CHUNK = 100

    async def drain_once(self) -> DrainResult:
        result = DrainResult()
        async with self.outbox.drain_lock, self._locked_connection() as conn:
            if conn is None:
                result.skipped = True
                return result
            await conn.commit()  # the lock alone, as it was
            async with self.db.session() as session:
                rows = list(
                    await session.scalars(
                        select(OutboxEvent)
                        .where(OutboxEvent.stored_at.is_(None))
                        .order_by(OutboxEvent.seq)
                        .limit(self.batch_size)
                    )
                )
                if rows:
                    now = utcnow()
                    values = [_validated_store_row(row, now) for row in rows]
                    insert = postgresql.insert(PlatformEvent).on_conflict_do_nothing(
                        index_elements=["id", "occurred_at"]
                    )
                    await session.execute(insert, values)
                    await repository.mark_stored(session, [r.seq for r in rows], now)
            result.stored = len(rows)
            async with self.db.session() as session:
                waiting = list(
                    await session.scalars(
                        select(OutboxEvent)
                        .where(OutboxEvent.published_at.is_(None))
                        .where(OutboxEvent.stored_at.is_not(None))
                        .order_by(OutboxEvent.seq)
                        .limit(self.batch_size)
                    )
                )
            done: list[int] = []
            for start in range(0, len(waiting), self.PUBLISH_CHUNK):
                chunk = waiting[start : start + self.PUBLISH_CHUNK]
                await _publish_one_call_each(
                    self.bus, [(r.account_id, event_message(r.payload)) for r in chunk]
                )
                done += [r.seq for r in chunk]
            async with self.db.session() as session:
                await repository.mark_published(session, done, utcnow())
            result.published = len(done)
            async with self.db.session() as session:
                result.deleted = await repository.delete_delivered(session)
            result.more = len(rows) == self.batch_size or len(waiting) == self.batch_size
        self.stored_total += result.stored
        self.published_total += result.published
        self.passes += 1
        return result


def _validated_store_row(row: OutboxEvent, now: datetime) -> dict[str, Any]:
    event = EventOut.model_validate(row.payload)
    return {
        "id": event.id,
        "occurred_at": event.occurred_at,
        "account_id": event.account_id,
        "event_type": event.type.value,
        "actor_key_id": event.actor.key_id,
        "actor_label": event.actor.label,
        "actor_kind": event.actor.kind,
        "params": event.params,
        "track": event.track.model_dump(mode="json") if event.track is not None else None,
        "stored_at": now,
    }


async def _publish_one_call_each(bus: Any, messages: list[Outgoing]) -> None:
    """The bus's script called once per message, all in one pipeline (as it was)."""
    from tunedeck.events.bus.interface import event_id_of as _event_id
    from tunedeck.events.bus.redis import script_tail as _tail

    async with bus._publisher.pipeline(transaction=False) as pipe:
        for account_id, message in messages:
            keys = [*bus._keys(account_id), bus.channel(account_id)]
            args = [bus.history_size, _tail(message), _event_id(message) or ""]
            await bus._publish_script(keys=keys, args=args, client=pipe)
        replies = await pipe.execute()
    if len(replies) != len(messages):
        raise BusUnavailable("short reply")


RELAYS: dict[str, type[EventRelay]] = {"before": BaselineRelay, "batched": EventRelay}


async def throughput(url: str, relay_class: type[EventRelay]) -> dict[str, float]:
    db = Database(url)
    # The relay's outbox: the commits below wake it, as the app's do.
    outbox = Outbox()
    units = UnitsOfWork(db, outbox)
    bus = RedisBus(REDIS_URL, namespace=NAMESPACE)
    await bus.start()
    try:
        account_ids = [
            (await accounts.create_account(units, f"bench-{secrets.token_hex(4)}")).id
            for _ in range(ACCOUNTS)
        ]
        arrivals = Arrivals(bus, account_ids)
        await bus.wait_ready(5)
        await record_concurrently(units, account_ids, 200)  # warm-up, relayed below

        # A backlog, as after an outage: recorded with no relay, then drained.
        record_s = await record_concurrently(units, account_ids, EVENTS)
        relay = relay_class(db, bus, outbox=outbox)
        started, cpu = time.perf_counter(), time.process_time()
        await relay.start()
        await arrivals.wait(EVENTS + 200)
        while True:
            async with db.session() as session:
                if await repository.outbox_size(session) == 0:
                    break
            await asyncio.sleep(0.01)
        backlog_s = time.perf_counter() - started
        backlog_cpu = time.process_time() - cpu

        # Live: recording while the relay runs.
        arrivals.reset()
        started = time.perf_counter()
        await record_concurrently(units, account_ids, EVENTS)
        await arrivals.wait(EVENTS)
        live_s = time.perf_counter() - started
        lags = arrivals.lags

        # Paced: half the recording rate just measured, so the lag is the relay's, not
        # the queue of a saturated process.
        rate = EVENTS / record_s / 2
        paced = max(100, int(rate * PACED_SECONDS))
        arrivals.reset()
        await record_paced(units, account_ids, paced, rate)
        await arrivals.wait(paced)
        paced_lags = arrivals.lags
        await relay.stop()
        await arrivals.close()
    finally:
        await bus.close()
        await db.dispose()
    return {
        "record": EVENTS / record_s,
        "backlog": (EVENTS + 200) / backlog_s,
        "backlog_cpu_us": backlog_cpu / (EVENTS + 200) * 1e6,
        "live": EVENTS / live_s,
        "lag_p50": pct(lags, 0.5) * 1000,
        "lag_p95": pct(lags, 0.95) * 1000,
        "paced_rate": rate,
        "paced_p50": pct(paced_lags, 0.5) * 1000,
        "paced_p95": pct(paced_lags, 0.95) * 1000,
    }


Playback = Annotated[Principal, Depends(requires(Permission.SPOTIFY_PLAYBACK))]


def bench_app(settings: Settings) -> FastAPI:
    """The real app plus one action that records an event as actions do and its twin that
    does not."""
    router = APIRouter()

    @router.post("/bench/with-event")
    async def with_event(principal: Playback, units: UnitsDep) -> dict[str, Any]:
        # As an action records its event (player.context.perform).
        event = await record_event_alone(
            units,
            account_id=principal.account_id,
            event_type=EventType.SEEK,
            actor=Actor.from_principal(principal),
            params={"position_ms": 1000},
            track=TRACK,
        )
        return {"ok": True, "event": str(event.id)}

    @router.post("/bench/without-event")
    async def without_event(principal: Playback, units: UnitsDep) -> dict[str, Any]:
        return {"ok": True, "event": None}

    app = create_app(settings)
    app.include_router(router)
    return app


async def action_latency(url: str) -> dict[str, float]:
    settings = Settings(
        database_url=url,
        redis_url=REDIS_URL,
        redis_namespace=NAMESPACE,
        encryption_keys=Keyring.generate().serialize(),
    )
    app = bench_app(settings)
    async with served(app) as client:
        units: UnitsOfWork = app_runtime(app).units
        account = await accounts.create_account(units, f"bench-{secrets.token_hex(4)}")
        key = await accounts.create_key(operator(units, account), "bench", ["spotify:playback"])
        headers = {"Authorization": f"Bearer {key.key}"}
        timings: dict[str, list[float]] = {"with": [], "without": []}
        cpu = {"with": 0.0, "without": 0.0}
        for i in range(WARMUP + REQUESTS):
            # Interleaved, so both variants see the same machine.
            for variant in ("with", "without") if i % 2 else ("without", "with"):
                started, cpu_started = time.perf_counter(), time.process_time()
                r = await client.post(f"/bench/{variant}-event", headers=headers)
                elapsed = time.perf_counter() - started
                assert r.status_code == 200, r.text
                if i >= WARMUP:
                    timings[variant].append(elapsed * 1000)
                    cpu[variant] += time.process_time() - cpu_started
    return (
        {
            f"{variant}_{q}": pct(values, p)
            for variant, values in timings.items()
            for q, p in (("p50", 0.5), ("p95", 0.95))
        }
        | {"with_mean": statistics.fmean(timings["with"])}
        | {f"{variant}_cpu_us": total / REQUESTS * 1e6 for variant, total in cpu.items()}
    )


async def run() -> None:
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    figures: dict[str, dict[str, float]] = {}
    async with postgres_database() as url:
        for name, relay_class in RELAYS.items():
            figures[name] = await throughput(url, relay_class)
        latency = await action_latency(url)
    before, now = figures["before"], figures["batched"]
    print(
        f"PostgreSQL + Redis, {ACCOUNTS} accounts, {WRITERS} concurrent actions, one process;"
        f" load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
        f" ({os.cpu_count()} CPUs), {time.monotonic() - started:.0f} s"
    )
    print(f"{'':44}{'before':>10}{'batched':>10}{'ratio':>8}")

    def row(label: str, key: str, unit: str, better_lower: bool = False) -> None:
        ratio = before[key] / now[key] if better_lower else now[key] / before[key]
        print(f"  {label:<36}{unit:>6}{before[key]:10.0f}{now[key]:10.0f}   x{ratio:.2f}")

    row("recorded (one event per transaction)", "record", "ev/s")
    row(f"relayed, a backlog of {EVENTS + 200}", "backlog", "ev/s")
    row("  process CPU per relayed event", "backlog_cpu_us", "us", better_lower=True)
    row("live, recorded and relayed", "live", "ev/s")
    row("live lag record -> subscriber p50", "lag_p50", "ms", better_lower=True)
    row("live lag record -> subscriber p95", "lag_p95", "ms", better_lower=True)
    print(
        f"  lag at half the recording rate ({before['paced_rate']:.0f} and"
        f" {now['paced_rate']:.0f} ev/s):"
        f" p50 {before['paced_p50']:.1f} -> {now['paced_p50']:.1f} ms,"
        f" p95 {before['paced_p95']:.1f} -> {now['paced_p95']:.1f} ms"
        f" (goal p95 <= 50 ms: {'met' if now['paced_p95'] <= 50 else 'NOT met'})"
    )
    print(
        f"  relay capacity on one free core, from its CPU: {1e6 / now['backlog_cpu_us']:.0f} ev/s"
        f" (before: {1e6 / before['backlog_cpu_us']:.0f})"
    )
    added50 = latency["with_p50"] - latency["without_p50"]
    added95 = latency["with_p95"] - latency["without_p95"]
    print(f"authenticated action through the app, {REQUESTS} of each, interleaved")
    for variant in ("without", "with"):
        print(
            f"  {variant + ' event':<14} p50 {latency[variant + '_p50']:6.2f} ms"
            f"   p95 {latency[variant + '_p95']:6.2f} ms"
            f"   CPU {latency[variant + '_cpu_us'] / 1000:5.2f} ms per request"
        )
    added_cpu = (latency["with_cpu_us"] - latency["without_cpu_us"]) / 1000
    verdict = "met" if added95 <= ADDED_P95_GOAL_MS else "NOT met"
    print(
        f"  added          p50 {added50:6.2f} ms   p95 {added95:6.2f} ms   CPU {added_cpu:5.2f} ms"
        f"   x{latency['with_p50'] / latency['without_p50']:.2f} at p50"
        f"   (goal: p95 added <= {ADDED_P95_GOAL_MS:g} ms: {verdict})"
    )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()

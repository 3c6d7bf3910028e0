"""The play history at a year's size: one account with ~200,000 plays over 300 streams.

Figures, on PostgreSQL (goals) with SQLite beside them:

- a page of history (50 plays: a stream's, five days', or the next page of those by its
  cursor): p95 <= 20 ms; searches (a track's name over the whole year) beside, by kind;
- a year's stats (tops, skip rates, requests): <= 200 ms, once the history's upkeep has
  summed up the closed months (``history.months``, as it does a day after each month
  ends); the same stats read from the plays alone (before the upkeep's pass) beside, as
  the baseline, and the time that pass took;
- a 12-hour stream's YouTube chapters (~240 plays): <= 50 ms;
- the poller's CPU per poll with play recording on, against off, in the same run (the
  real poller against the Spotify stand-in of ``bench.poller``), four rounds of both,
  measured once each account's play is open: the median of the rounds' ratios <= 1.1x.

The data is generated with bulk inserts. Run: ``python -m bench history``.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bench.databases import postgres_database, sqlite_database
from bench.poller import CADENCE, FixedWatch, StandInClients, _spread_out, settings_for, stand_in
from tunedeck.accounts.context import CallContext, operator
from tunedeck.accounts.models import Account
from tunedeck.events import partitions
from tunedeck.events.bus import InProcessBus
from tunedeck.history import months, service
from tunedeck.history.models import Play, Stream
from tunedeck.history.recorder import PlayRecorder
from tunedeck.history.schemas import ExportIn, HistoryQueryIn, StatsQueryIn
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.poller import Poller

PLAYS = 200_000
STREAMS = 300
LONG_STREAM_PLAYS = 240  # 12 hours of three-minute tracks
PAGES = 200
POLL_ACCOUNTS = 500
POLL_WINDOW = 12.0
POLL_ROUNDS = 4
END = datetime(2026, 11, 30, tzinfo=UTC)
START = END - timedelta(days=365)


def _plays(account_id: uuid.UUID, streams: list[Stream]) -> list[dict[str, Any]]:
    """Plays spread over the streams, three minutes apart; the last stream 12 hours."""
    rng = random.Random(7)
    per_stream = (PLAYS - LONG_STREAM_PLAYS) // (len(streams) - 1)
    rows = []
    for index, stream in enumerate(streams):
        count = LONG_STREAM_PLAYS if index == len(streams) - 1 else per_stream
        for n in range(count):
            track = rng.randrange(5000)
            started = stream.started_at + timedelta(minutes=3 * n)
            skipped = rng.random() < 0.2
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "started_at": started,
                    "account_id": account_id,
                    "item_uri": f"spotify:track:{track:022d}",
                    "item_type": "track",
                    "name": f"Track {track}",
                    "artists": [f"Artist {track % 700}"],
                    "artist": f"Artist {track % 700}",
                    "album": f"Album {track % 1500}",
                    "duration_ms": 180_000,
                    "art_url": None,
                    "ended_at": started + timedelta(minutes=3),
                    "ended_estimated": False,
                    "listened_ms": 60_000 if skipped else 180_000,
                    "end_reason": "skipped" if skipped else "natural",
                    "source": "request" if rng.random() < 0.15 else "context",
                    "requested_by": f"viewer{rng.randrange(400)}" if rng.random() < 0.15 else None,
                    "stream_id": stream.id,
                    "offset_ms": 3 * 60_000 * n,
                }
            )
    return rows


async def _generate(db: Database) -> tuple[uuid.UUID, list[Stream]]:
    account = Account(id=uuid.uuid4(), name="bench-history")
    step = (END - START) / STREAMS
    streams = [
        Stream(
            id=uuid.uuid4(),
            account_id=account.id,
            title=f"Stream {i}",
            started_at=START + step * i,
            stopped_at=START + step * i + timedelta(hours=12),
            started_by="bench",
        )
        for i in range(STREAMS)
    ]
    if db.backend == "postgresql":
        async with db.engine.begin() as conn:
            await conn.run_sync(partitions.ensure_partitions_sync, START, 14, "plays")
    async with db.session() as session:
        session.add(account)
        session.add_all(streams)
    rows = _plays(account.id, streams)
    for chunk in range(0, len(rows), 10_000):
        async with db.session() as session:
            await session.execute(insert(Play), rows[chunk : chunk + 10_000])
    if db.backend == "postgresql":
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("COMMIT")
            # As a year of plays stands in production: vacuumed long since. Freshly bulk
            # loaded, autovacuum would be vacuuming it while the reads are timed.
            await conn.exec_driver_sql("VACUUM (ANALYZE) plays")
    return account.id, streams


async def _timed(call: Callable[[], Awaitable[Any]], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - began) * 1000)
    return sorted(spent)


def _p95(values: list[float]) -> float:
    return values[int(len(values) * 0.95) - 1]


PAGE_KINDS = ("stream", "period", "next", "search")


async def _pages(ctx: CallContext, streams: list[Stream]) -> dict[str, list[float]]:
    """PAGES pages as the History view asks for them, timed by kind: a stream's first
    page, five days' first page, the page after one of those (keyset: its cursor), and a
    search of a track's name over the whole history."""
    rng = random.Random(3)
    spent: dict[str, list[float]] = {kind: [] for kind in PAGE_KINDS}
    for _ in range(PAGES):
        kind = PAGE_KINDS[rng.randrange(len(PAGE_KINDS))]
        if kind == "stream":
            query = HistoryQueryIn(stream=rng.choice(streams).id)
        elif kind == "search":
            query = HistoryQueryIn(search=f"track {rng.randrange(5000)}")
        else:
            since = START + timedelta(days=rng.randrange(360))
            query = HistoryQueryIn(since=since, until=since + timedelta(days=5))
            if kind == "next":
                first = await service.history(ctx, query)
                query = query.model_copy(update={"cursor": first.next_cursor})
        began = time.perf_counter()
        await service.history(ctx, query)
        spent[kind].append((time.perf_counter() - began) * 1000)
    return {kind: sorted(times) for kind, times in spent.items()}


async def measure_reads(url: str) -> dict[str, float]:
    db = Database(url)
    try:
        began = time.perf_counter()
        account_id, streams = await _generate(db)
        generated = time.perf_counter() - began
        async with db.session() as session:
            account = await session.get(Account, account_id)
        assert account is not None
        ctx = operator(UnitsOfWork(db), account)
        pages = await _pages(ctx, streams)
        year = StatsQueryIn.model_validate({"from": START, "to": END})
        from_plays = await _timed(lambda: service.stats_of(ctx, year), 5)
        read_from_plays = await service.stats_of(ctx, year)
        began = time.perf_counter()
        while await months.sum_up_closed_months(UnitsOfWork(db), END + timedelta(days=2)):
            pass
        summing_up = time.perf_counter() - began
        stats = await _timed(lambda: service.stats_of(ctx, year), 5)
        same = await service.stats_of(ctx, year) == read_from_plays
        long_stream = streams[-1].id
        chapters = await _timed(
            lambda: service.export(ctx, long_stream, ExportIn(format="youtube")), 10
        )
    finally:
        await db.dispose()
    plain = sorted(pages["stream"] + pages["period"] + pages["next"])
    figures = {
        "generate_s": generated,
        "page_p50": statistics.median(plain),
        "page_p95": _p95(plain),
        "stats_median": statistics.median(stats),
        "stats_from_plays_median": statistics.median(from_plays),
        "summing_up_s": summing_up,
        "same_figures": float(same),
        "chapters_median": statistics.median(chapters),
    }
    for kind, times in pages.items():
        figures[f"{kind}_p50"] = statistics.median(times)
        figures[f"{kind}_p95"] = _p95(times)
    return figures


async def _settled(recorder: PlayRecorder) -> None:
    while True:
        if recorder.idle:
            return
        await asyncio.sleep(0.2)


async def cpu_per_poll(url: str, api_url: str, *, record: bool) -> float:
    """CPU seconds per poll of the real poller (POLL_ACCOUNTS accounts at 3 s), the
    recorder attached or not."""
    db = Database(url)
    bus = InProcessBus()
    http = create_http_client()
    accounts = [
        Account(id=uuid.uuid4(), name=f"poll-{uuid.uuid4().hex[:12]}") for _ in range(POLL_ACCOUNTS)
    ]
    async with db.session() as session:
        session.add_all(accounts)
    settings = settings_for(url)
    store = NowPlayingStore(settings.player_state_cache_seconds)
    poller = Poller(
        db=db,
        bus=bus,
        watch=FixedWatch([a.id for a in accounts]),
        clients=StandInClients(http, api_url),
        settings=settings,
        now_playing=store,
    )
    recorder = None
    if record:
        recorder = PlayRecorder(
            units=UnitsOfWork(db),
            bus=bus,
            settings=settings,
            follows=lambda account_id: poller.account(account_id) is not None,
        )
        recorder.attach(store)
    try:
        await poller.start()
        await _spread_out(poller, POLL_ACCOUNTS)
        # Each account's first reading opens its play (a few statements each): that is
        # start-up, not the cost of a poll, so the window opens once it is written.
        if recorder is not None:
            await _settled(recorder)
        polls = poller.stats.polls
        cpu = time.process_time()
        await asyncio.sleep(POLL_WINDOW)
        polls = poller.stats.polls - polls
        cpu = time.process_time() - cpu
    finally:
        if recorder is not None:
            await recorder.stop()
        await poller.stop()
        await http.aclose()
        await db.dispose()
    return cpu / max(1, polls)


async def measure_polling(url: str) -> tuple[list[float], list[float]]:
    """CPU per poll without and with recording, by round: each round measures both, one
    right after the other, the first of the two alternating from round to round (off
    first, then on first, ...), so a change in the machine's load weighs on both alike."""
    off: list[float] = []
    on: list[float] = []
    with stand_in(record=False) as api_url:
        for round_ in range(POLL_ROUNDS):
            for record in (False, True) if round_ % 2 == 0 else (True, False):
                cpu = await cpu_per_poll(url, f"{api_url}/v1", record=record)
                (on if record else off).append(cpu)
    return off, on


def report(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label}: generated {PLAYS:,} plays / {STREAMS} streams in {figures['generate_s']:.1f} s; "
        f"history page p50 {figures['page_p50']:.1f} ms, p95 {figures['page_p95']:.1f} ms "
        f"(goal <= 20); a year's stats {figures['stats_median']:.0f} ms (goal <= 200); "
        f"12-hour stream's chapters {figures['chapters_median']:.1f} ms (goal <= 50)"
    )
    ratio = figures["stats_median"] / figures["stats_from_plays_median"]
    print(
        f"{label}: a year's stats from the plays alone (baseline, before the upkeep summed up "
        f"the closed months) {figures['stats_from_plays_median']:.0f} ms; with the months "
        f"summed up {ratio:.2f}x that; summing up the 12 months took "
        f"{figures['summing_up_s']:.1f} s; same figures both ways: "
        f"{'yes' if figures['same_figures'] else 'NO'}"
    )
    kinds = ", ".join(
        f"{kind} {figures[f'{kind}_p50']:.1f} / {figures[f'{kind}_p95']:.1f}" for kind in PAGE_KINDS
    )
    print(f"{label}: pages by kind, p50 / p95 ms: {kinds} (the page p95 above: all but search)")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def run() -> None:
    print(f"load average at start: {_load()}")
    async with postgres_database() as url:
        report("PostgreSQL", await measure_reads(url))
        off, on = await measure_polling(url)
        rounds = ", ".join(f"{b * 1e6:.0f} / {a * 1e6:.0f}" for b, a in zip(off, on, strict=True))
        # Each round's own ratio (its two halves ran back to back), then their median: one
        # round caught by a burst of load elsewhere moves it little.
        ratio = statistics.median(a / b for b, a in zip(off, on, strict=True))
        print(
            f"PostgreSQL poller: CPU per poll without / with recording, by round: {rounds} us; "
            f"median of the rounds' with / without: {ratio:.2f}x (goal <= 1.1x; "
            f"cadence {CADENCE} s)"
        )
    async with sqlite_database() as url:
        report("SQLite", await measure_reads(url))
    print(f"load average at end: {_load()}")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()

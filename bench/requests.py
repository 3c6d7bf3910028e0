"""A raid on the chat door: 500 viewers send 1,000 ``!sr`` within 10 s, with 50 ms of
simulator latency on every Spotify call.

The requests are a mix as chat sends them: Spotify track links (each its own song), and
search texts drawn with repetition from a smaller set (popular songs asked for again and
again, some in other letter cases: one search each, however often asked). Each viewer
sends two, at random moments of the 10 s (some at nearly the same time). The channel's
rules for regular viewers: one request waiting each, no cooldown, no queue limit, no
duplicates.

Goals, printed met or not:

- every answer within 2 s and the p99 within 1 s (answers are timed from the moment each
  call is sent; the baseline is one request alone, a search not yet cached, measured in
  the same run);
- every answer a chat line: 200, ``text/plain``, at most 400 characters;
- the per-viewer cap held exactly: no viewer has more than one request, and every
  request taken belongs to a viewer who was told it was taken;
- Spotify searches at most the number of distinct search texts (the simulator counts);
- no request lost or doubled: the requests stored are exactly those the answers (and the
  lookups that finished after their answer) said were taken;
- the queue afterwards identical to a sequential replay of the accepted requests (same
  viewers, same songs, same order) on a second channel with the same rules.

The simulator runs in its own process. TuneDeck runs in this process, set up as ``serve``
runs it (``bench.apps``), on SQLite (``TUNEDECK_BENCH_REQUESTS_DB=postgres``: a
PostgreSQL database of its own, with Redis), called through its ASGI interface as a bot
calls it: ``GET /v1/chat/sr?token=…&q=…`` with Nightbot's headers.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.apps import served, store_demo_connection
from bench.databases import REDIS_URL, postgres_database, sqlite_database
from bench.simulator_process import simulator
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.accounts.models import Account
from tunedeck.app import create_app
from tunedeck.chat import tokens
from tunedeck.chat.lookups import Finished
from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.requests import service
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.models import SongRequest
from tunedeck.requests.schemas import State
from tunedeck.runtime import Runtime, app_runtime
from tunedeck.simulator.catalog_builder import build_catalog
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.simulator.defaults import DEMO_CLIENT_ID

LATENCY_MS = 50
VIEWERS = int(os.environ.get("TUNEDECK_BENCH_RAID_VIEWERS", "500"))
REQUESTS = 2 * VIEWERS
WINDOW_SECONDS = 10.0
LINK_SHARE = 0.4
DISTINCT_TEXTS = 150
GOAL_MAX_MS = 2_000.0
GOAL_P99_MS = 1_000.0
SEED = 19
BASELINE_ROUNDS = 5
VIEWER_IDS = 100_000
RULES = {
    "roles": {
        "regular": {
            "max_waiting": 1,
            "cooldown_seconds": 0,
            "max_queue_length": None,
            "duplicates_allowed": False,
        }
    }
}
SEVEN_MINUTES = 7 * 60_000


@dataclass(frozen=True)
class Ask:
    """One ``!sr``: who, what, and when in the window it is sent."""

    viewer: int
    text: str
    at: float
    is_search: bool


@dataclass
class Told:
    """What the chat door answered, and how long it took."""

    ask: Ask
    status: int
    content_type: str
    text: str
    ms: float

    @property
    def taken(self) -> bool:
        return " added " in self.text or "waiting for a moderator" in self.text

    @property
    def pending(self) -> bool:
        return "looking it up" in self.text


@dataclass
class Channel:
    account_id: uuid.UUID
    token: str
    units: UnitsOfWork = field(repr=False)


def songs() -> list[tuple[str, str]]:
    """(link, "Artist - Title") of the simulator's plain songs: playable everywhere, not
    explicit, not a cover or live version, short enough."""
    config = SimulatorConfig()
    catalog = build_catalog(config.seed, config.catalog_size)
    versions = {version.track.id for version in catalog.versions}
    found = [
        track
        for track in catalog.tracks
        if not track.explicit
        and track.markets is None
        and track.duration_ms <= SEVEN_MINUTES
        and track.id not in versions
    ]
    return [
        (f"https://open.spotify.com/track/{t.id}?si=raid", f"{t.artists[0].name} - {t.name}")
        for t in found
    ]


def raid_plan(rng: random.Random) -> tuple[list[Ask], set[str]]:
    """The raid's 1,000 asks (two per viewer) and its distinct search texts (folded)."""
    catalog = songs()
    rng.shuffle(catalog)
    popular = catalog[:DISTINCT_TEXTS]
    linked = iter(catalog[DISTINCT_TEXTS:])
    weights = [1 / (rank + 1) for rank in range(len(popular))]  # a few songs asked often
    asks: list[Ask] = []
    for n in range(REQUESTS):
        viewer = n % VIEWERS
        at = rng.uniform(0, WINDOW_SECONDS)
        if rng.random() < LINK_SHARE:
            asks.append(Ask(viewer, next(linked)[0], at, is_search=False))
        else:
            text = rng.choices(popular, weights)[0][1]
            text = text.upper() if rng.random() < 0.2 else text
            asks.append(Ask(viewer, text, at, is_search=True))
    distinct = {" ".join(a.text.casefold().split()) for a in asks if a.is_search}
    return sorted(asks, key=lambda a: a.at), distinct


def viewer_id(viewer: int) -> str:
    return str(VIEWER_IDS + viewer)


def nightbot(viewer: int) -> dict[str, str]:
    user = httpx.QueryParams(
        {
            "name": f"raider{viewer}",
            "displayName": f"Raider{viewer}",
            "provider": "twitch",
            "providerId": viewer_id(viewer),
            "userLevel": "everyone",
        }
    )
    return {"Nightbot-User": str(user), "User-Agent": "Nightbot-URL-Fetcher/0.0.3"}


async def connect_channel(db: Database, keyring: Keyring, sim_url: str) -> Channel:
    """A channel connected to the simulator's demo user, with a chat token."""
    async with httpx.AsyncClient(base_url=sim_url) as sim:
        minted = (
            await sim.post("/_sim/tokens", json={"user": "demo", "client_id": DEMO_CLIENT_ID})
        ).json()
    units = UnitsOfWork(db)
    account = await accounts.create_account(units, f"raid-{uuid.uuid4().hex[:8]}")
    await store_demo_connection(db, keyring, account.id, minted)
    created = await tokens.create_chat_token(
        operator(units, account), "raid", trust_roles=True, public_url="http://tunedeck"
    )
    return Channel(account.id, created.token, units)


async def apply_rules(runtime: Runtime, channel: Channel, db: Database) -> None:
    units = UnitsOfWork(db)
    async with db.session() as session:
        account = await session.get(Account, channel.account_id)
    assert account is not None
    ctx = operator(units, account)
    requests_ctx = RequestsContext(
        ctx.principal,
        runtime.units,
        runtime.token_manager,
        runtime.player_state,
        runtime.request_matcher,
    )
    await service.update_settings(requests_ctx, RULES)


async def send(client: httpx.AsyncClient, channel: Channel, ask: Ask) -> Told:
    params = {"token": channel.token, "q": ask.text}
    started = time.perf_counter()
    response = await client.get("/v1/chat/sr", params=params, headers=nightbot(ask.viewer))
    ms = (time.perf_counter() - started) * 1000
    return Told(
        ask, response.status_code, response.headers.get("content-type", ""), response.text, ms
    )


async def raid(client: httpx.AsyncClient, channel: Channel, asks: list[Ask]) -> list[Told]:
    """Every ask sent at its moment of the window."""
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def at_its_moment(ask: Ask) -> Told:
        await asyncio.sleep(max(0.0, start + ask.at - loop.time()))
        return await send(client, channel, ask)

    return await asyncio.gather(*(at_its_moment(ask) for ask in asks))


async def stored(db: Database, account_id: uuid.UUID) -> list[SongRequest]:
    async with db.session() as session:
        query = (
            select(SongRequest)
            .where(SongRequest.account_id == account_id)
            .order_by(SongRequest.rank, SongRequest.created_at)
        )
        return list((await session.scalars(query)).all())


async def searches(control: httpx.AsyncClient) -> int:
    stats = (await control.get("/_sim/stats")).json()
    return int(stats["requests"].get("GET /v1/search", 0))


@asynccontextmanager
async def database() -> AsyncIterator[tuple[str, str | None]]:
    if os.environ.get("TUNEDECK_BENCH_REQUESTS_DB") == "postgres":
        async with postgres_database() as url:
            yield url, REDIS_URL
    else:
        async with sqlite_database() as url:
            yield url, None


def line_ok(told: Told) -> bool:
    units = len(told.text.encode("utf-16-le")) // 2
    return (
        told.status == 200 and told.content_type == "text/plain; charset=utf-8" and 0 < units <= 400
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(data_dir: Path, sim_url: str) -> None:
    rng = random.Random(SEED)
    asks, distinct_texts = raid_plan(rng)
    async with database() as (url, redis_url):
        settings = Settings(
            database_url=url,
            redis_url=redis_url,
            redis_namespace=f"raid{uuid.uuid4().hex[:8]}",
            encryption_keys=Keyring.generate().serialize(),
            data_dir=data_dir,
            spotify_api_url=f"{sim_url}/v1",
            spotify_accounts_url=sim_url,
            poll_in_process=False,
        )
        keyring = Keyring.parse(settings.encryption_keys or "")
        db = Database(settings.resolved_database_url)
        try:
            raiders = await connect_channel(db, keyring, sim_url)
            baseline_channel = await connect_channel(db, keyring, sim_url)
            replay_channel = await connect_channel(db, keyring, sim_url)
            app = create_app(settings)
            async with (
                served(app, "http://127.0.0.1:8000") as client,
                httpx.AsyncClient(base_url=sim_url) as control,
            ):
                runtime = app_runtime(app)
                for channel in (raiders, baseline_channel, replay_channel):
                    await apply_rules(runtime, channel, db)
                await report(
                    client,
                    control,
                    runtime,
                    db,
                    asks,
                    distinct_texts,
                    raiders,
                    baseline_channel,
                    replay_channel,
                    url,
                )
        finally:
            await db.dispose()


async def report(
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    runtime: Runtime,
    db: Database,
    asks: list[Ask],
    distinct_texts: set[str],
    raiders: Channel,
    baseline_channel: Channel,
    replay_channel: Channel,
    url: str,
) -> None:
    # Baseline: one request alone (searches no one asked for yet, so not cached), a few
    # times one after the other after a first that warms the channel up: the median.
    lone_texts = [text for _, text in songs()[-(BASELINE_ROUNDS + 1) :]]
    lone: list[Told] = []
    for n, text in enumerate(lone_texts):
        told_alone = await send(client, baseline_channel, Ask(n, text, 0.0, is_search=True))
        assert told_alone.taken, told_alone.text
        lone.append(told_alone)
    baseline_ms = statistics.median(t.ms for t in lone[1:])

    (await control.post("/_sim/stats/reset")).raise_for_status()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    told = await raid(client, raiders, asks)
    lasted = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    assert runtime.chat is not None
    await runtime.chat.lookups.settled()
    caught_up = time.perf_counter() - started
    background_failed = 0
    for t in told:
        if t.pending:
            key = (raiders.account_id, "twitch", viewer_id(t.ask.viewer))
            outcome = runtime.chat.lookups.status(key)
            background_failed += isinstance(outcome, Finished) and outcome.outcome is None
    searched = await searches(control)

    times = [t.ms for t in told]
    p50, p99, worst = statistics.median(times), percentile(times, 0.99), max(times)
    lines_ok = sum(1 for t in told if line_ok(t))
    taken = [t for t in told if t.taken]
    pending = [t for t in told if t.pending]
    rows = await stored(db, raiders.account_id)
    per_viewer = Counter(row.viewer_id for row in rows)
    told_taken = Counter(viewer_id(t.ask.viewer) for t in taken)
    told_maybe = told_taken + Counter(viewer_id(t.ask.viewer) for t in pending)
    cap_held = max(per_viewer.values(), default=0) <= 1
    # Lost: told "added" and not stored. Doubled: stored more than the answers allow.
    lost = sum((told_taken - per_viewer).values())
    doubled = sum((per_viewer - told_maybe).values())
    waiting_states = {State.QUEUED.value, State.PENDING.value}
    queue = [(row.viewer_id, row.track_uri) for row in rows if row.state in waiting_states]

    # The replay: the requests taken, one after the other, in the order of the queue.
    replay_started = time.perf_counter()
    replay_refused = 0
    for row in rows:
        viewer = int(row.viewer_id) - VIEWER_IDS
        again = await send(client, replay_channel, Ask(viewer, row.query, 0.0, is_search=False))
        replay_refused += not again.taken
    replay_seconds = time.perf_counter() - replay_started
    replayed = await stored(db, replay_channel.account_id)
    replay_queue = [
        (row.viewer_id, row.track_uri) for row in replayed if row.state in waiting_states
    ]

    refusals = Counter(
        t.text.split(", ", 1)[1].split(" (")[0][:48] for t in told if not t.taken and not t.pending
    )
    backend = "PostgreSQL + Redis" if url.startswith("postgres") else "SQLite"
    print(
        f"{REQUESTS} !sr from {VIEWERS} viewers within {WINDOW_SECONDS:.0f} s through the chat "
        f"door ({backend}); simulator latency {LATENCY_MS} ms per Spotify call; sent over "
        f"{lasted:.1f} s; load average {load:.1f} before, {load_after:.1f} after "
        f"({os.cpu_count()} CPUs)"
    )
    print(
        f"  baseline: one request alone (an uncached search), median of {BASELINE_ROUNDS}: "
        f"{baseline_ms:7.1f} ms"
    )
    print(
        f"  raid: p50 {p50:7.1f} ms ({p50 / baseline_ms:.2f}x baseline)   p99 {p99:7.1f} ms "
        f"({p99 / baseline_ms:.2f}x)   worst {worst:7.1f} ms ({worst / baseline_ms:.2f}x)"
    )
    verdict = "met" if worst <= GOAL_MAX_MS else "NOT met"
    print(f"  every answer within {GOAL_MAX_MS:.0f} ms: {verdict}")
    verdict = "met" if p99 <= GOAL_P99_MS else "NOT met"
    print(f"  p99 within {GOAL_P99_MS:.0f} ms: {verdict}")
    print(
        f"  chat lines (200, text/plain, <= 400 chars): {lines_ok}/{len(told)}"
        f" ({'met' if lines_ok == len(told) else 'NOT met'})"
    )
    print(
        f"  the queue caught up {caught_up:.1f} s after the first !sr (lookups finished in "
        f"the background; {background_failed} of them failed)\n"
        f"  taken {len(taken)}, answered 'looking it up' {len(pending)}, refused "
        f"{len(told) - len(taken) - len(pending)}: "
        + "; ".join(f"{n}x {reason!r}" for reason, n in refusals.most_common(4))
    )
    print(
        f"  per-viewer cap (1 waiting) held: {'met' if cap_held else 'NOT met'} "
        f"(most requests of one viewer: {max(per_viewer.values(), default=0)}; "
        f"{len(per_viewer)} viewers with one)"
    )
    print(
        f"  Spotify searches {searched} for {len(distinct_texts)} distinct search texts "
        f"({'met' if searched <= len(distinct_texts) else 'NOT met'})"
    )
    print(
        f"  stored {len(rows)} (told 'added' {len(taken)}, 'looking it up' {len(pending)}): "
        f"lost {lost}, doubled {doubled} ({'met' if lost == doubled == 0 else 'NOT met'})"
    )
    same = queue == replay_queue
    print(
        f"  queue ({len(queue)} waiting) identical to a sequential replay of the accepted "
        f"ones ({len(replay_queue)}, replayed in {replay_seconds:.1f} s, {replay_refused} "
        "refused): "
        f"{'met' if same else 'NOT met'}"
    )


def main() -> None:
    with simulator(0, latency_ms=LATENCY_MS) as sim_url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(Path(tmp), sim_url))


if __name__ == "__main__":
    main()

"""The poller at scale, against a fast Spotify stand-in (its own process, answering
``GET /me/player`` with a track whose progress follows its clock).

- capacity: one process polls N accounts at the 3 s cadence (the real ``Poller``:
  leases on PostgreSQL, one task per account, change detection, the bus); polls per
  second, how late polls start against their schedule (p50 / p99; goal: 2,000 accounts
  with p99 <= 500 ms) and the process's CPU (one event loop: at most one core). Baseline
  in the same run: the plainest poller there is (per account: read, sleep 3 s; no
  leases, no detection, no publishing) at 2,000 accounts, its CPU per poll against the
  real one's.
- sharing: two poller processes on one PostgreSQL database share 4,000 accounts; the
  stand-in records which process polled which account when. Once the shares settled
  (the second process took its half from the first), accounts polled by both within
  one cadence interval (goal 0); over the whole run, accounts polled back and forth
  (goal 0). Then one is killed with SIGKILL: the time until each of its accounts is
  polled by the other (goal: within 10 s; lease TTL 7 s).

Run: ``python -m bench poller`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bench.databases import postgres_database
from tunedeck.config import Settings
from tunedeck.events.bus import InProcessBus
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.realtime.poll_clients import PollClient
from tunedeck.realtime.poller import Poller
from tunedeck.spotify.client import RequestPolicy, SpotifyClient

CADENCE = 3.0
CAPACITY_SIZES = (1000, 2000, 3000)
BASELINE_SIZE = 2000
WINDOW = 24.0  # seconds measured, after every account was polled and spread out
SHARED = 4000
LEASE_TTL: float = Settings.model_fields["poll_lease_seconds"].default
DURATION_MS = 3_600_000  # one hour: no end-of-track poll during the bench


# -- the Spotify stand-in (its own process) -------------------------------------------


class StandIn:
    """A raw ASGI app: ``GET [/a|/b]/v1/me/player`` answers a playing track; with
    ``record``, each request's token, prefix and arrival (``time.monotonic()``) are kept
    and served at ``GET /_log``."""

    def __init__(self, record: bool) -> None:
        self.record = record
        self.started = time.time()
        self.log: list[tuple[str, str, float]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope["path"]
        if path == "/_log":
            await _answer(send, json.dumps(self.log).encode())
            return
        if self.record:
            prefix = path[:2] if path[:3] in ("/a/", "/b/") else ""
            auth = dict(scope["headers"]).get(b"authorization", b"")
            self.log.append((auth.decode()[7:], prefix, time.monotonic()))
        progress = int((time.time() - self.started) * 1000) % DURATION_MS
        await _answer(send, _playback(progress))


def _playback(progress_ms: int) -> bytes:
    return json.dumps(
        {
            "device": {"id": "d", "name": "PC", "type": "Computer", "volume_percent": 50},
            "repeat_state": "off",
            "shuffle_state": False,
            "context": {"uri": "spotify:playlist:bench"},
            "timestamp": int(time.time() * 1000),
            "progress_ms": progress_ms,
            "is_playing": True,
            "currently_playing_type": "track",
            "item": {
                "type": "track",
                "uri": "spotify:track:bench",
                "name": "Bench",
                "duration_ms": DURATION_MS,
                "artists": [{"name": "Bench Band"}],
            },
        }
    ).encode()


async def _answer(send: Any, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def stand_in(record: bool) -> Iterator[str]:
    """Run the stand-in in its own process; yield its base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "bench.poller", "standin", str(port), str(int(record))]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_log", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the stand-in did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def serve_stand_in(port: int, record: bool) -> None:
    import uvicorn

    uvicorn.run(
        StandIn(record),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop",
        http="httptools",
    )


# -- pollers -------------------------------------------------------------------------


class FixedWatch:
    """A watched set that never changes (the bench decides who is watched)."""

    def __init__(self, accounts: list[uuid.UUID]) -> None:
        self.accounts = set(accounts)
        self.changed = asyncio.Event()

    async def watched(self) -> set[uuid.UUID]:
        return self.accounts


class StandInClients:
    """Spotify clients on the stand-in; an account's token is its id."""

    def __init__(self, http: httpx.AsyncClient, api_url: str) -> None:
        self.http = http
        self.api_url = api_url
        self.policy = RequestPolicy(rate_limit_wait_cap=0, deadline=5)

    async def open(self, account_id: uuid.UUID) -> PollClient:
        token = str(account_id)

        async def tokens(*, force_refresh: bool = False) -> str:
            return token

        client = SpotifyClient(
            self.http, tokens, api_url=self.api_url, app_id="bench", policy=self.policy
        )
        return PollClient(client, "bench")


def settings_for(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        poll_playing_seconds=CADENCE,
        poll_lease_seconds=LEASE_TTL,
        poll_max_accounts=100_000,
    )


@dataclass
class Capacity:
    accounts: int
    polls_per_second: float
    lateness_p50: float
    lateness_p99: float
    cpu_share: float
    cpu_per_poll: float
    failures: int = 0  # polls that failed (timed out, mostly) while measured


async def _spread_out(poller: Poller, accounts: int) -> None:
    """Wait until every account was polled twice (the second poll spreads them)."""
    while True:
        pollers = [poller.account(account) for account in poller.accounts]
        if sum(1 for p in pollers if p is not None and p.polls >= 2) >= accounts:
            return
        await asyncio.sleep(0.5)


async def measure_poller(db_url: str, api_url: str, size: int) -> Capacity:
    db = Database(db_url)
    bus = InProcessBus()
    http = create_http_client()
    accounts = [uuid.uuid4() for _ in range(size)]
    poller = Poller(
        db=db,
        bus=bus,
        watch=FixedWatch(accounts),
        clients=StandInClients(http, api_url),
        settings=settings_for(db_url),
    )
    try:
        await poller.start()
        await _spread_out(poller, size)
        poller.stats.lateness.clear()
        polls, failures = poller.stats.polls, poller.stats.failures
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(WINDOW)
        polls = poller.stats.polls - polls
        failures = poller.stats.failures - failures
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        lateness = sorted(poller.stats.lateness)
    finally:
        await poller.stop()
        await http.aclose()
        await db.dispose()
    return Capacity(
        size,
        polls / wall,
        statistics.median(lateness),
        lateness[int(len(lateness) * 0.99)],
        cpu / wall,
        cpu / polls,
        failures,
    )


async def measure_baseline(api_url: str, size: int) -> Capacity:
    """Per account: read, sleep 3 s. Lateness: how late each read starts."""
    http = create_http_client()
    clients = StandInClients(http, api_url)
    lateness: list[float] = []
    counting = asyncio.Event()
    polls = 0

    async def loop(account: uuid.UUID, phase: float) -> None:
        nonlocal polls
        client = (await clients.open(account)).spotify
        due = time.monotonic() + phase
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            started = time.monotonic()
            await client.playback()
            if counting.is_set():
                lateness.append(started - due)
                polls += 1
            due = time.monotonic() + CADENCE

    tasks = [asyncio.create_task(loop(uuid.uuid4(), CADENCE * n / size)) for n in range(size)]
    try:
        await asyncio.sleep(2 * CADENCE)
        counting.set()
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(WINDOW)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.aclose()
    lateness.sort()
    return Capacity(
        size,
        polls / wall,
        statistics.median(lateness),
        lateness[int(len(lateness) * 0.99)],
        cpu / wall,
        cpu / polls,
    )


def report_capacity(figure: Capacity, label: str, baseline: Capacity | None = None) -> None:
    ratio = f"  = {figure.cpu_per_poll / baseline.cpu_per_poll:4.2f} x baseline" if baseline else ""
    verdict = "" if baseline is None else (" ok" if figure.lateness_p99 <= 0.5 else " LATE")
    if figure.failures:
        # A poll past poll_timeout_seconds: the process (or the machine) could not keep up.
        verdict += f", {figure.failures} failed polls"
    print(
        f"  {label:<9} {figure.accounts:>5} accounts  {figure.polls_per_second:7.1f} polls/s"
        f"  lateness p50 {figure.lateness_p50 * 1000:6.1f} ms"
        f"  p99 {figure.lateness_p99 * 1000:6.1f} ms"
        f"  CPU {figure.cpu_share * 100:5.1f} %  {figure.cpu_per_poll * 1e6:6.0f} us/poll{ratio}"
        f"{verdict}"
    )


# -- two processes ------------------------------------------------------------------


async def run_child(db_url: str, api_url: str, seed: str, count: int) -> None:
    """One poller process of the sharing part: polls its share of the ``count`` accounts
    named after ``seed`` until SIGTERM (or SIGKILL)."""
    accounts = [uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{n}") for n in range(count)]
    db = Database(db_url)
    http = create_http_client()
    poller = Poller(
        db=db,
        bus=InProcessBus(),
        watch=FixedWatch(accounts),
        clients=StandInClients(http, api_url),
        settings=settings_for(db_url),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await poller.start()
    print("ready", flush=True)
    await stop.wait()
    await poller.stop()
    await http.aclose()
    await db.dispose()


def start_child(db_url: str, base: str, prefix: str, seed: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.poller", "child", db_url, f"{base}{prefix}/v1"]
    return subprocess.Popen(
        [*command, seed, str(SHARED)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )


def _wait_ready(process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != b"ready":
        raise RuntimeError("a poller process did not start")


async def measure_sharing(db_url: str) -> None:
    seed = uuid.uuid4().hex
    with stand_in(record=True) as base:
        first = start_child(db_url, base, "/a", seed)
        second = start_child(db_url, base, "/b", seed)
        try:
            _wait_ready(first)
            _wait_ready(second)
            await asyncio.sleep(4 * CADENCE)  # everyone taken, shares settled, spread out
            steady_from = time.monotonic()
            await asyncio.sleep(4 * CADENCE)
            killed_at = time.monotonic()
            first.send_signal(signal.SIGKILL)
            first.wait()
            await asyncio.sleep(LEASE_TTL + 6 * CADENCE)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=30)
        async with httpx.AsyncClient(timeout=60) as client:
            log = (await client.get(f"{base}/_log")).json()

    polls: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for token, prefix, arrived in log:
        polls[token].append((arrived, prefix))
    twice = back_and_forth = 0
    for account_polls in polls.values():
        account_polls.sort()
        steady = [(at, p) for at, p in account_polls if steady_from <= at < killed_at]
        if any(p1 != p2 and t2 - t1 < CADENCE for (t1, p1), (t2, p2) in itertools.pairwise(steady)):
            twice += 1
        alive = [p for at, p in account_polls if at < killed_at]
        if sum(1 for p1, p2 in itertools.pairwise(alive) if p1 != p2) > 1:
            back_and_forth += 1
    before = {t: {p for at, p in ps if at < killed_at} for t, ps in polls.items()}
    share_a = [t for t, prefixes in before.items() if prefixes == {"/a"}]
    share_b = [t for t, prefixes in before.items() if prefixes == {"/b"}]
    takeover = sorted(
        min(at for at, p in polls[t] if p == "/b" and at > killed_at) - killed_at
        for t in share_a
        if any(p == "/b" and at > killed_at for at, p in polls[t])
    )
    moved = len(polls) - len(share_a) - len(share_b)
    print(
        f"  {len(polls)} accounts polled; before the kill {len(share_a)} by the first"
        f" process, {len(share_b)} by the second, {moved} handed from one to the other"
        " when the second joined (fair shares; the new holder polls at once, so each"
        " handover costs one early poll)"
    )
    print(
        f"  accounts polled by both processes within one {CADENCE:g} s interval, once shares"
        f" settled: {twice}; polled by one, the other, then the first again: {back_and_forth}"
    )
    if takeover:
        print(
            f"  after SIGKILL: {len(takeover)}/{len(share_a)} of its accounts taken over;"
            f" first poll by the survivor p50 {statistics.median(takeover):5.2f} s,"
            f" max {takeover[-1]:5.2f} s (lease TTL {LEASE_TTL:g} s:"
            f" {takeover[-1] / LEASE_TTL:4.2f} x TTL; then a reconcile, and the first"
            " polls of all those accounts at once)"
        )


# -- main ----------------------------------------------------------------------------


async def run() -> None:
    # Each account's first failed poll is a warning; the report counts them instead.
    logging.getLogger("tunedeck.realtime.account_poller").setLevel(logging.ERROR)
    print(
        f"cadence {CADENCE:g} s, {WINDOW:g} s measured per size after every account was"
        f" polled twice; {os.cpu_count()} CPUs on this machine"
    )
    async with postgres_database() as db_url:
        with stand_in(record=False) as base:
            api_url = f"{base}/v1"
            baseline = await measure_baseline(api_url, BASELINE_SIZE)
            report_capacity(baseline, "baseline")
            for size in CAPACITY_SIZES:
                report_capacity(await measure_poller(db_url, api_url, size), "poller", baseline)
        print(f"two poller processes sharing {SHARED} accounts (PostgreSQL leases):")
        await measure_sharing(db_url)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    if sys.argv[1:2] == ["standin"]:
        serve_stand_in(int(sys.argv[2]), sys.argv[3] == "1")
    elif sys.argv[1:2] == ["child"]:
        url, api, child_seed, child_count = sys.argv[2:6]
        asyncio.run(run_child(url, api, child_seed, int(child_count)))
    else:
        main()

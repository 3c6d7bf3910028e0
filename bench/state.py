"""The combined Spotify state (``GET /v1/spotify/state`` and GraphQL ``spotifyState``)
with 50 ms of simulator latency on every Spotify call.

- latency: p50 of one state read (four Spotify calls), as a ratio to the p50 of one
  Spotify call made directly (the baseline); in parallel it costs about one call (goals:
  at most 1.15 for REST, 1.2 for GraphQL), one after the other it would cost four. The
  three are measured in the same rounds (a direct call, a REST read, a GraphQL read, in
  turns), so a busy machine slows all three alike and the ratios hold. The sharing window
  is off for this part, so every read really asks Spotify.
- sharing: 50 concurrent state reads of one account (half REST, half GraphQL) and the
  Spotify calls they caused (goal: 4, one fetch of the four parts).

The simulator runs in its own process; TuneDeck runs in this process on a temporary
SQLite database, set up as ``tunedeck serve`` runs it (``bench.apps``), with rate limits
that admit the bench's calls (one key sends all of them), called through its ASGI
interface.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.apps import limits_for, served, store_demo_connection
from bench.simulator_process import simulator
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.app import create_app, prepare_storage
from tunedeck.config import Settings
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.simulator.defaults import DEMO_CLIENT_ID

LATENCY_MS = 50
ROUNDS = 100
WARMUP = 5
CONCURRENT = 50
GOALS = {"REST": 1.15, "GraphQL": 1.2}
GRAPHQL_STATE = {
    "query": "{ spotifyState { nowPlaying { isPlaying track { name } } queue { items { uri } }"
    " devices { id } playlists { id } errors { queue { code } } } }"
}


async def connect_demo(settings: Settings, sim_url: str) -> str:
    """An account connected to the simulator's demo user; the plaintext of a read key."""
    async with httpx.AsyncClient(base_url=sim_url) as sim:
        minted = (
            await sim.post("/_sim/tokens", json={"user": "demo", "client_id": DEMO_CLIENT_ID})
        ).json()
    keyring = Keyring.parse(settings.encryption_keys or "")
    db = Database(settings.resolved_database_url)
    try:
        units = UnitsOfWork(db)
        account = await accounts.create_account(units, f"bench-{uuid.uuid4().hex[:8]}")
        key = await accounts.create_key(operator(units, account), "bench", ["spotify:read"])
        await store_demo_connection(db, keyring, account.id, minted)
    finally:
        await db.dispose()
    return key.key


Call = Callable[[], Awaitable[httpx.Response]]


async def rounds(
    calls: dict[str, Call], check: Callable[[str, httpx.Response], None]
) -> dict[str, list[float]]:
    """Each call timed ``ROUNDS`` times (ms), in turns: one of each per round, the order
    rotating from round to round so that none always follows the same one. Only the call
    is timed: its answer is checked (decoded, looked at) after."""
    names = list(calls)
    for _ in range(WARMUP):
        for name in names:
            check(name, await calls[name]())
    times: dict[str, list[float]] = {name: [] for name in names}
    for n in range(ROUNDS):
        for name in names[n % len(names) :] + names[: n % len(names)]:
            started = time.perf_counter()
            response = await calls[name]()
            times[name].append((time.perf_counter() - started) * 1000)
            check(name, response)
    return times


def check_answer(name: str, response: httpx.Response) -> None:
    """A read answered in full: 200, and no part (REST) or field (GraphQL) failed."""
    assert response.status_code == 200, response.text
    if name == "REST":
        assert not any(response.json()["errors"].values()), response.text
    elif name == "GraphQL":
        assert "errors" not in response.json(), response.text


async def measure(data_dir: Path, sim_url: str) -> None:
    base = limits_for(
        Settings(
            database_url=f"sqlite:///{data_dir / 'bench.db'}",
            encryption_keys=Keyring.generate().serialize(),
            data_dir=data_dir,
            spotify_api_url=f"{sim_url}/v1",
            spotify_accounts_url=sim_url,
        ),
        calls=2 * CONCURRENT,
    )
    await prepare_storage(base)
    headers = {"Authorization": f"Bearer {await connect_demo(base, sim_url)}"}
    minted_headers = await demo_headers(sim_url)

    # Latency: no sharing window, so each read fetches the four parts.
    no_window = base.model_copy(update={"player_state_cache_seconds": 0})
    async with (
        httpx.AsyncClient(base_url=f"{sim_url}/v1", headers=minted_headers) as spotify,
        served(create_app(no_window)) as client,
    ):

        async def one_call() -> httpx.Response:
            return await spotify.get("/me/player")

        async def rest_state() -> httpx.Response:
            return await client.get("/v1/spotify/state", headers=headers)

        async def graphql_state() -> httpx.Response:
            return await client.post("/graphql", json=GRAPHQL_STATE, headers=headers)

        reads: dict[str, Call] = {
            "upstream": one_call,
            "REST": rest_state,
            "GraphQL": graphql_state,
        }
        load = os.getloadavg()[0]
        times = await rounds(reads, check_answer)
        load_after = os.getloadavg()[0]

    # Sharing: the default window; count the Spotify calls of one burst.
    async with served(create_app(base)) as client, httpx.AsyncClient(base_url=sim_url) as control:
        await rest_state_once(client, headers)  # the key's first use, outside the burst
        await asyncio.sleep(base.player_state_cache_seconds + 0.2)
        (await control.post("/_sim/stats/reset")).raise_for_status()
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                client.get("/v1/spotify/state", headers=headers)
                if i % 2
                else client.post("/graphql", json=GRAPHQL_STATE, headers=headers)
                for i in range(CONCURRENT)
            )
        )
        burst_ms = (time.perf_counter() - started) * 1000
        statuses = sorted({a.status_code for a in answers})
        assert statuses == [200], f"statuses {statuses}: {answers[-1].text}"
        calls = (await control.get("/_sim/stats")).json()["total"]

    upstream = statistics.median(times["upstream"])
    print(
        f"simulator latency per Spotify call: {LATENCY_MS} ms; {ROUNDS} rounds of one call"
        f" of each, in turns; load average {load:.1f} before, {load_after:.1f} after"
        f" ({os.cpu_count()} CPUs: the ratios grow with what else runs)"
    )
    print(f"  {'one Spotify call (GET /me/player), baseline':48s} p50 {upstream:7.1f} ms")
    for door, label in (
        ("REST", "GET /v1/spotify/state (4 Spotify calls)"),
        ("GraphQL", "GraphQL spotifyState (4 Spotify calls)"),
    ):
        value = statistics.median(times[door])
        ratio = value / upstream
        verdict = "met" if ratio <= GOALS[door] else "NOT met"
        print(
            f"  {label:48s} p50 {value:7.1f} ms   ratio {ratio:.3f}"
            f"   (goal <= {GOALS[door]}: {verdict})"
        )
    print("  (the four calls one after the other would be a ratio of about 4)")
    print(
        f"{CONCURRENT} concurrent state reads (REST + GraphQL): {calls} Spotify calls "
        f"(goal 4), all answered in {burst_ms:.0f} ms"
    )


async def rest_state_once(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    (await client.get("/v1/spotify/state", headers=headers)).raise_for_status()


async def demo_headers(sim_url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=sim_url) as sim:
        minted = await sim.post("/_sim/tokens", json={"user": "demo", "client_id": DEMO_CLIENT_ID})
    return {"Authorization": f"Bearer {minted.json()['access_token']}"}


def main() -> None:
    with simulator(0, latency_ms=LATENCY_MS) as sim_url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure(Path(tmp), sim_url))


if __name__ == "__main__":
    main()

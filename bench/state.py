"""The combined Spotify state (``GET /v1/spotify/state`` and GraphQL ``spotifyState``)
with 50 ms of simulator latency on every Spotify call.

- latency: p50 of one state read (four Spotify calls), as a ratio to the p50 of one
  Spotify call made directly; in parallel it costs about one call (goal: at most 1.3),
  one after the other it would cost four. The sharing window is off for this part, so
  every read really asks Spotify.
- sharing: 50 concurrent state reads of one account (half REST, half GraphQL) and the
  Spotify calls they caused (goal: 4, one fetch of the four parts).

The simulator runs in its own process; TuneDeck runs in this process on a temporary
SQLite database, called through its ASGI interface.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.simulator_process import simulator
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.app import create_app, prepare_storage
from tunedeck.config import Settings
from tunedeck.connections import repository as connections
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

LATENCY_MS = 50
SAMPLES = 60
WARMUP = 5
CONCURRENT = 50
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
        async with db.session() as session:
            await connections.save_app_credentials(
                session, keyring, account.id, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
            )
            await connections.save_connection(
                session,
                keyring,
                account.id,
                access_token=minted["access_token"],
                refresh_token=minted["refresh_token"],
                expires_at=utcnow() + timedelta(hours=1),
                scopes=minted["scope"],
                spotify_user_id="demo",
            )
    finally:
        await db.dispose()
    return key.key


@asynccontextmanager
async def tunedeck(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://tunedeck", timeout=30
        ) as client:
            yield client


async def p50_ms(call: Callable[[], Awaitable[Any]]) -> float:
    for _ in range(WARMUP):
        await call()
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(data_dir: Path, sim_url: str) -> None:
    base = Settings(
        database_url=f"sqlite:///{data_dir / 'bench.db'}",
        encryption_keys=Keyring.generate().serialize(),
        data_dir=data_dir,
        spotify_api_url=f"{sim_url}/v1",
        spotify_accounts_url=sim_url,
    )
    await prepare_storage(base)
    headers = {"Authorization": f"Bearer {await connect_demo(base, sim_url)}"}
    minted_headers = await demo_headers(sim_url)

    async with httpx.AsyncClient(base_url=f"{sim_url}/v1", headers=minted_headers) as spotify:

        async def one_call() -> None:
            (await spotify.get("/me/player")).raise_for_status()

        upstream = await p50_ms(one_call)

    # Latency: no sharing window, so each read fetches the four parts.
    async with tunedeck(base.model_copy(update={"player_state_cache_seconds": 0})) as client:

        async def rest_state() -> None:
            response = await client.get("/v1/spotify/state", headers=headers)
            assert response.status_code == 200, response.text
            assert not any(response.json()["errors"].values()), response.text

        async def graphql_state() -> None:
            response = await client.post("/graphql", json=GRAPHQL_STATE, headers=headers)
            assert "errors" not in response.json(), response.text

        rest = await p50_ms(rest_state)
        graphql = await p50_ms(graphql_state)

    # Sharing: the default window; count the Spotify calls of one burst.
    async with tunedeck(base) as client, httpx.AsyncClient(base_url=sim_url) as control:
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
        assert all(a.status_code == 200 for a in answers)
        calls = (await control.get("/_sim/stats")).json()["total"]

    print(f"simulator latency per Spotify call: {LATENCY_MS} ms; {SAMPLES} samples each")
    rows = [
        ("one Spotify call (GET /me/player)", upstream),
        ("GET /v1/spotify/state (4 Spotify calls)", rest),
        ("GraphQL spotifyState (4 Spotify calls)", graphql),
    ]
    for label, value in rows:
        print(f"  {label:42s} p50 {value:7.1f} ms   ratio {value / upstream:.2f}")
    print("  (the four calls one after the other would be a ratio of about 4; goal <= 1.3)")
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

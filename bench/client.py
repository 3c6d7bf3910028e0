"""Many accounts reading playback state concurrently, through several Spotify clients.

The simulator runs in its own process with ``ACCOUNTS`` users. Each contender
reads ``GET /me/player`` for every account at once, ``ROUNDS`` times, over one
pooled connection set:

- raw HTTP on the service's pooled client (``kit.http``): no client library, a
  fixed header; what one Python process can drive (the baseline);
- raw HTTP on httpx's default pool, for reference (the pool every peer below
  that uses httpx runs on);
- TuneDeck's ``SpotifyClient`` (parsing into pydantic models, retry policy);
- tekore's async client (parsing into its models);
- spotipy (synchronous; one thread per account).

Then the simulator's in-process throughput: the ASGI app called without a
network, which is what the simulator itself costs per request.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import spotipy
import tekore

from bench.simulator_process import mint_tokens, simulator
from tunedeck.kit.http import create_http_client
from tunedeck.simulator.app import create_simulator_app
from tunedeck.spotify.client import SpotifyClient

ACCOUNTS = 50
ROUNDS = 40
REPEATS = 3
LIMITS = httpx.Limits(max_connections=ACCOUNTS, max_keepalive_connections=ACCOUNTS)


class FixedToken:
    """A token provider for a token known to be valid for the whole run."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def __call__(self, *, force_refresh: bool = False) -> str:
        return self.token


class RebasedSender(tekore.AsyncSender):  # type: ignore[misc]  # tekore is untyped
    """tekore's async sender, sending what it addresses to api.spotify.com to the simulator."""

    def __init__(self, client: httpx.AsyncClient, api_url: str) -> None:
        super().__init__(client)
        self.api_url = api_url

    async def send(self, request: tekore.Request) -> tekore.Response:
        request.url = request.url.replace("https://api.spotify.com/v1", self.api_url)
        return await super().send(request)


async def _rounds(read_all: Callable[[], Awaitable[object]]) -> float:
    """Requests per second over ROUNDS rounds of one read per account."""
    await read_all()  # warm the connection pool
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await read_all()
    return ACCOUNTS * ROUNDS / (time.perf_counter() - started)


async def raw_http(http: httpx.AsyncClient, api_url: str, tokens: list[str]) -> float:
    async with http:
        headers = [{"Authorization": f"Bearer {token}"} for token in tokens]

        async def read_all() -> None:
            responses = await asyncio.gather(
                *(http.get(f"{api_url}/me/player", headers=h) for h in headers)
            )
            assert all(r.status_code == 200 for r in responses)

        return await _rounds(read_all)


async def tunedeck_client(api_url: str, tokens: list[str]) -> float:
    # The client exactly as the service runs it: on the app's pooled HTTP client.
    async with create_http_client(limits=LIMITS) as http:
        clients = [SpotifyClient(http, FixedToken(t), api_url=api_url) for t in tokens]

        async def read_all() -> None:
            states = await asyncio.gather(*(client.playback() for client in clients))
            assert all(state is not None and state.item is not None for state in states)

        return await _rounds(read_all)


async def tekore_client(api_url: str, tokens: list[str]) -> float:
    async with httpx.AsyncClient(limits=LIMITS) as http:
        sender = RebasedSender(http, api_url)
        clients = [tekore.Spotify(token, sender=sender) for token in tokens]

        async def read_all() -> None:
            states = await asyncio.gather(*(client.playback() for client in clients))
            assert all(state is not None and state.item is not None for state in states)

        return await _rounds(read_all)


def spotipy_client(api_url: str, tokens: list[str]) -> float:
    clients = []
    for token in tokens:
        client = spotipy.Spotify(auth=token, retries=0, status_retries=0)
        client.prefix = f"{api_url}/"
        clients.append(client)
    with ThreadPoolExecutor(max_workers=ACCOUNTS) as pool:

        def read_all() -> None:
            states = list(pool.map(lambda c: c.current_playback(), clients))
            assert all(state and state["item"] for state in states)

        read_all()
        started = time.perf_counter()
        for _ in range(ROUNDS):
            read_all()
        return ACCOUNTS * ROUNDS / (time.perf_counter() - started)


async def in_process_simulator(tokens_for: int) -> float:
    """The simulator's own cost: its ASGI app called directly, no sockets."""
    app = create_simulator_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        minted = await http.post(
            "/_sim/tokens", json={"user": "demo", "client_id": "tunedeck-demo"}
        )
        headers = {"Authorization": f"Bearer {minted.json()['access_token']}"}

        async def read_all() -> None:
            responses = await asyncio.gather(
                *(http.get("/v1/me/player", headers=headers) for _ in range(tokens_for))
            )
            assert all(r.status_code == 200 for r in responses)

        return await _rounds(read_all)


def best_of(measure: Callable[[], float]) -> float:
    """Median of REPEATS runs: steadier than one run on a shared 2-core machine."""
    return statistics.median(measure() for _ in range(REPEATS))


def main() -> None:
    with simulator(ACCOUNTS) as url:
        api_url = f"{url}/v1"
        tokens = mint_tokens(url, ACCOUNTS)
        results = {
            "raw HTTP, service pool": best_of(
                lambda: asyncio.run(raw_http(create_http_client(limits=LIMITS), api_url, tokens))
            ),
            "raw HTTP, httpx pool": best_of(
                lambda: asyncio.run(raw_http(httpx.AsyncClient(limits=LIMITS), api_url, tokens))
            ),
            "tunedeck SpotifyClient": best_of(
                lambda: asyncio.run(tunedeck_client(api_url, tokens))
            ),
            "tekore (async)": best_of(lambda: asyncio.run(tekore_client(api_url, tokens))),
            "spotipy (threads)": best_of(lambda: spotipy_client(api_url, tokens)),
        }
    own = best_of(lambda: asyncio.run(in_process_simulator(ACCOUNTS)))

    print(f"{ACCOUNTS} accounts x {ROUNDS} rounds of GET /me/player, median of {REPEATS} runs")
    baseline = results["raw HTTP, service pool"]
    peers = {name: results[name] for name in ("tekore (async)", "spotipy (threads)")}
    fastest_peer = max(peers, key=lambda name: peers[name])
    for name, rps in results.items():
        print(f"  {name:<26} {rps:8.0f} req/s   x{rps / baseline:.2f} of baseline")
    ours = results["tunedeck SpotifyClient"]
    print(
        f"  tunedeck / fastest peer ({fastest_peer}): x{ours / peers[fastest_peer]:.2f}"
        f"  (goal >= 1.00)"
    )
    print(f"  simulator over HTTP (raw, service pool):  {baseline:8.0f} req/s")
    print(f"  simulator in-process (ASGI, no sockets):  {own:8.0f} req/s")

"""Fixtures for the Spotify client's behaviour tests: the project's Spotify simulator on
loopback, its control API, a pooled HTTP client and token providers that count calls."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.servers import serve_in_thread
from tunedeck.spotify.client import RequestPolicy, SpotifyClient
from tunedeck.spotify.oauth import SpotifyOAuth
from tunedeck.spotify.quirks import QuirksRegistry

DEMO_CLIENT_ID = "tunedeck-demo"
DEMO_CLIENT_SECRET = "tunedeck-demo-secret"
REDIRECT_URI = "http://127.0.0.1:8765/callback"

# Quick retries keep the suite fast; the deadline stays generous unless a test says so.
FAST_POLICY = RequestPolicy(
    rate_limit_wait_cap=3.0, max_retries=2, backoff_base=0.01, attempt_timeout=5.0, deadline=10.0
)


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """Base URL of one simulator serving the whole package (reset before each test)."""
    from tunedeck.simulator.app import create_simulator_app

    with serve_in_thread(create_simulator_app()) as url:
        yield url


class Simulator:
    """The simulator's control API (``/_sim``)."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.api_url = f"{url}/v1"

    async def _ok(self, response: httpx.Response) -> Any:
        assert response.is_success, (
            f"{response.request.url}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    async def reset(self) -> None:
        await self._ok(await self.http.post(f"{self.url}/_sim/reset"))

    async def configure(self, **knobs: Any) -> None:
        await self._ok(await self.http.patch(f"{self.url}/_sim/config", json=knobs))

    async def mint(
        self, user: str = "demo", expires_in: int = 3600, scope: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"user": user, "client_id": DEMO_CLIENT_ID, "expires_in": expires_in}
        if scope is not None:
            body["scope"] = scope
        data: dict[str, Any] = await self._ok(
            await self.http.post(f"{self.url}/_sim/tokens", json=body)
        )
        return data

    async def expire(self, access_token: str) -> None:
        await self._ok(
            await self.http.post(
                f"{self.url}/_sim/tokens/expire", json={"access_token": access_token}
            )
        )

    async def revoke(self, user: str) -> None:
        await self._ok(await self.http.post(f"{self.url}/_sim/tokens/revoke", json={"user": user}))

    async def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = await self._ok(await self.http.get(f"{self.url}/_sim/stats"))
        return data

    async def log(self) -> list[dict[str, Any]]:
        """The Web API requests received since the reset: method, path, query, body."""
        data: list[dict[str, Any]] = await self._ok(
            await self.http.get(f"{self.url}/_sim/requests")
        )
        return data

    async def requests(self, route: str) -> int:
        """How many requests ``"METHOD /v1/route"`` received since the reset."""
        return int((await self.stats())["requests"].get(route, 0))

    async def token_requests(self, grant_type: str) -> int:
        return int((await self.stats())["token_requests"].get(grant_type, 0))

    async def playback(self, user: str = "demo") -> dict[str, Any]:
        data: dict[str, Any] = await self._ok(
            await self.http.get(f"{self.url}/_sim/users/{user}/playback")
        )
        return data

    async def playlists(self, user: str = "demo") -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._ok(
            await self.http.get(f"{self.url}/_sim/users/{user}/playlists")
        )
        return data

    async def app_action(self, user: str, **action: Any) -> dict[str, Any]:
        """A change made "in the Spotify app" (no premium or device rules)."""
        data: dict[str, Any] = await self._ok(
            await self.http.post(f"{self.url}/_sim/users/{user}/app-actions", json=action)
        )
        return data

    async def advance_clock(self, seconds: float) -> None:
        await self._ok(
            await self.http.post(f"{self.url}/_sim/clock/advance", json={"seconds": seconds})
        )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The pooled client the application would own."""
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[Simulator]:
    """The simulator, reset to its initial world and knobs."""
    async with httpx.AsyncClient(timeout=10) as control:
        simulator = Simulator(control, simulator_url)
        await simulator.reset()
        yield simulator
        await simulator.reset()


class SimTokens:
    """A token provider over simulator-minted tokens: a forced refresh goes through the
    real refresh grant. Counts calls so tests can check how often it was asked."""

    def __init__(
        self, sim: Simulator, oauth: SpotifyOAuth, user: str = "demo", scope: str | None = None
    ) -> None:
        self.sim = sim
        self.scope = scope
        self.oauth = oauth
        self.user = user
        self.calls = 0
        self.forced = 0
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    async def __call__(self, *, force_refresh: bool = False) -> str:
        self.calls += 1
        if force_refresh:
            self.forced += 1
        if self.access_token is None:
            minted = await self.sim.mint(self.user, scope=self.scope)
            self.access_token = minted["access_token"]
            self.refresh_token = minted["refresh_token"]
        elif force_refresh:
            assert self.refresh_token is not None
            grant = await self.oauth.refresh(self.refresh_token)
            self.access_token, self.refresh_token = grant.access_token, grant.refresh_token
        assert self.access_token is not None
        return self.access_token


@pytest.fixture
def oauth(sim: Simulator, http: httpx.AsyncClient) -> SpotifyOAuth:
    """The demo app's OAuth helper (Basic auth) against the simulator's accounts service."""
    return SpotifyOAuth(
        http,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        accounts_url=sim.url,
    )


MakeClient = Callable[..., tuple[SpotifyClient, SimTokens]]


@pytest.fixture
def quirks() -> QuirksRegistry:
    """The test's own registry of learned app restrictions, shared by its clients."""
    return QuirksRegistry()


@pytest.fixture
def make_client(
    sim: Simulator, http: httpx.AsyncClient, oauth: SpotifyOAuth, quirks: QuirksRegistry
) -> MakeClient:
    """Build a client for a simulator user; the test's clients share its ``quirks``."""
    app_id = f"test-app-{uuid.uuid4().hex}"

    def build(
        user: str = "demo",
        *,
        policy: RequestPolicy = FAST_POLICY,
        app: str | None = None,
        scope: str | None = None,
    ) -> tuple[SpotifyClient, SimTokens]:
        tokens = SimTokens(sim, oauth, user, scope)
        client = SpotifyClient(
            http, tokens, api_url=sim.api_url, app_id=app or app_id, policy=policy, quirks=quirks
        )
        return client, tokens

    return build

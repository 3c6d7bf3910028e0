"""``tunedeck demo``: TuneDeck and a Spotify simulator on one port, with zero configuration.

The simulator is mounted in-process at ``/spotify-sim`` and the settings point the
Spotify URLs at it; its demo app's registered redirect URI is this server's OAuth
callback (its ``/authorize`` redirects nowhere else). Once the server listens, the demo
account is prepared through the same doors a streamer uses: account ``demo``, a fresh
admin key, the simulator's demo app, and Spotify connected through the real OAuth flow
over HTTP (the simulator forgets its tokens when it stops, so every start connects
again). The simulator's demo user is already playing music.

Each start prints a new admin key and revokes the previous demo key: only the hash of a
key is stored, so an old one cannot be shown again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import operator
from tunedeck.accounts.permissions import GRANTABLE
from tunedeck.app import create_app, prepare_storage
from tunedeck.config import Settings, origin_for
from tunedeck.connections.token_manager import redirect_uri_for
from tunedeck.kit.errors import NotFound
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.realtime.serving import freeze_startup_objects, run_serving, uvicorn_options
from tunedeck.runtime import app_runtime
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.config import AppConfig, SimulatorConfig
from tunedeck.simulator.defaults import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_USER

SIM_PREFIX = "/spotify-sim"
DEMO_ACCOUNT = "demo"
DEMO_KEY_LABEL = "demo admin"
CONNECTIONS = "/v1/connections/spotify"


class DemoError(RuntimeError):
    """The demo could not prepare its account (the message says which step failed)."""


@dataclass(frozen=True, slots=True)
class DemoReady:
    origin: str
    admin_key: str

    def banner(self) -> str:
        return "\n".join(
            (
                f"TuneDeck demo running on {self.origin} "
                f"(Spotify simulator at {self.origin}{SIM_PREFIX}, user {DEMO_USER!r})",
                f"Admin key: {self.admin_key}",
                f"Dashboard: {self.origin}/",
                f"Overlay:   {self.origin}/overlay/builder (make the OBS URL there)",
                f"Live feed: {self.origin.replace('http', 'ws', 1)}/v1/spotify/live",
                f"REST:      {self.origin}/v1/spotify",
                f"GraphQL:   {self.origin}/graphql",
                "(a new admin key is made at every start; the previous one is revoked)",
            )
        )


def demo_settings(settings: Settings, host: str, port: int) -> Settings:
    """``settings`` with the public URL and the Spotify URLs on this server."""
    origin = origin_for(host, port)
    return settings.model_copy(
        update={
            "host": host,
            "port": port,
            "public_url": origin,
            "spotify_api_url": f"{origin}{SIM_PREFIX}/v1",
            "spotify_accounts_url": f"{origin}{SIM_PREFIX}",
        }
    )


def demo_simulator(settings: Settings) -> SimulatorConfig:
    """The simulator's configuration: its demo app registers this server's callback."""
    demo_app = AppConfig(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        name="TuneDeck Demo",
        redirect_uris=[redirect_uri_for(settings)],
    )
    return SimulatorConfig(apps=[demo_app])


async def _fresh_admin_key(units: UnitsOfWork) -> str:
    """Account ``demo`` (created if absent) and a new admin key; the previous one is
    revoked. The operator's work, through the operations the REST doors call."""
    try:
        account = await accounts.account_named(units, DEMO_ACCOUNT)
    except NotFound:
        account = await accounts.create_account(units, DEMO_ACCOUNT)
    ctx = operator(units, account)
    for key in await accounts.list_keys(ctx):
        if key.label == DEMO_KEY_LABEL and key.revoked_at is None:
            await accounts.revoke_key(ctx, key.id)
    created = await accounts.create_key(ctx, DEMO_KEY_LABEL, [p.value for p in GRANTABLE])
    return created.key


async def bootstrap(app: FastAPI, http: httpx.AsyncClient) -> DemoReady:
    """Prepare the demo account on a running demo server (``app`` is what it serves)."""
    runtime = app_runtime(app)
    origin = runtime.settings.public_url
    key = await _fresh_admin_key(runtime.units)
    admin = {"Authorization": f"Bearer {key}"}

    # The simulator's demo app, stored as a streamer stores theirs.
    app_credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    stored = await http.put(f"{origin}{CONNECTIONS}/app", headers=admin, json=app_credentials)
    _expect(stored, 200, "storing the Spotify app credentials")

    # The OAuth flow as a browser would run it: TuneDeck -> Spotify's consent -> callback.
    started = await http.get(f"{origin}{CONNECTIONS}/authorize?format=json", headers=admin)
    _expect(started, 200, "starting the Spotify authorization")
    consent_url = httpx.URL(started.json()["authorize_url"]).copy_add_param("login", DEMO_USER)
    consent = await http.get(consent_url)
    _expect(consent, 302, "the simulator's consent page")
    callback = await http.get(consent.headers["location"], headers={"Accept": "application/json"})
    _expect(callback, 200, "the authorization callback")
    if not callback.json()["connection"]["connected"]:
        raise DemoError("Spotify did not end up connected")

    player = f"{origin}{SIM_PREFIX}/_sim/users/{DEMO_USER}"
    playback = await http.get(f"{player}/playback")
    _expect(playback, 200, "reading the simulator's player")
    if not playback.json()["is_playing"]:
        _expect(
            await http.post(f"{player}/app-actions", json={"action": "play"}),
            200,
            "starting the music",
        )
    return DemoReady(origin=origin, admin_key=key)


def _expect(response: httpx.Response, status: int, step: str) -> None:
    if response.status_code != status:
        raise DemoError(f"{step} answered {response.status_code}: {response.text[:300]}")


async def serve_demo(settings: Settings) -> None:
    """Migrate, serve TuneDeck with the simulator mounted, prepare the account, print how
    to use it, and serve until interrupted."""
    await prepare_storage(settings, create_key_file=True)
    app = create_app(settings, mounts={SIM_PREFIX: create_simulator_app(demo_simulator(settings))})
    freeze_startup_objects()
    options = uvicorn_options(settings)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", **options
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():  # failed to start (port taken...): uvicorn said why
            await serving
            raise DemoError(f"the server did not start on {settings.host}:{settings.port}")
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            ready = await bootstrap(app, http)
    except BaseException:
        server.should_exit = True
        await serving
        raise
    print(ready.banner(), flush=True)
    await serving


def run_demo(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Blocking entry point of ``tunedeck demo``."""
    settings = demo_settings(settings, host or settings.host, port or settings.port)
    run_serving(serve_demo(settings))

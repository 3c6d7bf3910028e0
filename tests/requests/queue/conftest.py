"""The request queue on each backend (SQLite with the in-process bus, PostgreSQL with
Redis), TuneDeck running in this loop against the simulator over loopback; operations
called directly (:class:`Harness.ctx`) and through the served doors (``harness.client``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.kit.storage import unique
from tests.player import conftest as player_fixtures
from tests.player.conftest import Streamer, connect_account
from tests.support import accounts
from tests.support.app import asgi_client
from tests.support.requests import forget_all_requests
from tests.support.simulator import Sim
from tunedeck.accounts.permissions import GRANTABLE, Permission, Principal, PrincipalKind
from tunedeck.app import create_app
from tunedeck.kit.db import Database
from tunedeck.requests.context import RequestsContext
from tunedeck.runtime import Runtime, app_runtime

database_url = player_fixtures.database_url
database = player_fixtures.database
keyring = player_fixtures.keyring
make_caller = player_fixtures.make_caller
sim_server = player_fixtures.sim_server
sim = player_fixtures.sim
bus_url = player_fixtures.bus_url
make_streamer = player_fixtures.make_streamer
streamer = player_fixtures.streamer

ALL = frozenset(GRANTABLE)


@dataclass
class Harness:
    """A running app, its runtime and an HTTP client to it, and a connected streamer."""

    app: FastAPI
    runtime: Runtime
    client: httpx.AsyncClient
    streamer: Streamer
    sim: Sim
    database: Database

    def principal(
        self,
        *permissions: Permission,
        account_id: uuid.UUID | None = None,
        label: str = "mod key",
        kind: PrincipalKind = PrincipalKind.API_KEY,
    ) -> Principal:
        return Principal(
            kind=kind,
            account_id=account_id or self.streamer.account_id,
            account_name="streamer",
            label=label,
            permissions=frozenset(permissions) if permissions else ALL,
            credential_id=uuid.uuid4(),
        )

    def ctx(self, *permissions: Permission, account_id: uuid.UUID | None = None) -> RequestsContext:
        """An operation's context for a principal holding ``permissions`` (all by default)."""
        runtime = self.runtime
        return RequestsContext(
            self.principal(*permissions, account_id=account_id),
            runtime.units,
            runtime.token_manager,
            runtime.player_state,
            runtime.request_matcher,
        )

    def spotify_calls(self, route: str | None = None) -> int:
        """Web API requests the simulator received since its reset (of ``route``)."""
        stats = self.sim.stats()
        if route is None:
            return int(stats["total"])
        return int(stats["requests"].get(route, 0))

    async def connect_other(self, user: str = "demo") -> uuid.UUID:
        """Another account, connected to the simulator too."""
        other = await accounts.create_account(self.database, unique())
        await connect_account(self.database, self.sim, other.id, user)
        return other.id


@pytest.fixture
async def harness(
    database_url: str,
    bus_url: str | None,
    sim: Sim,
    tmp_path: Path,
    streamer: Streamer,
    database: Database,
) -> AsyncIterator[Harness]:
    # A namespace of its own (the machine's Redis is shared), and no poller: an account
    # with requests is polled (and fed), whose Spotify calls are not the service's.
    settings = player_fixtures.player_settings(
        database_url,
        bus_url,
        sim,
        tmp_path,
        redis_namespace=unique("requests"),
        poll_in_process=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
        yield Harness(app, app_runtime(app), client, streamer, sim, database)
    await forget_all_requests(database)

"""The connections operations check the caller's permission themselves, whichever door
calls them, and act on the caller's own account only."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.accounts.conftest import MakeCaller
from tests.connections.conftest import ADMIN, APP_ID, APP_SECRET, settings_for
from tests.kit import storage
from tests.support.simulator import Sim
from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import CallContext
from tunedeck.connections import oauth_flow, service
from tunedeck.connections import repository as repo
from tunedeck.connections.schemas import AppCredentialsIn
from tunedeck.kit.db import Database
from tunedeck.kit.errors import Forbidden
from tunedeck.kit.unit_of_work import UnitsOfWork
from tunedeck.spotify.quirks import QuirksRegistry

KEYRING = storage.TEST_KEYRING


async def test_operations_need_admin_and_stay_in_their_account(
    database: Database, make_caller: MakeCaller, sim: Sim, tmp_path: Path
) -> None:
    reader = await make_caller("spotify:read", "spotify:playback")
    admin = await make_caller(ADMIN)
    neighbour = await make_caller(ADMIN)
    settings = settings_for(database.url, sim, tmp_path, "http://127.0.0.1:8000")
    credentials = AppCredentialsIn(client_id=APP_ID, client_secret=APP_SECRET)
    quirks = QuirksRegistry()
    units = UnitsOfWork(database)

    async def as_caller(key: str) -> CallContext:
        async with database.session() as session:
            return CallContext(await accounts.authenticate(session, key), units)

    async with httpx.AsyncClient(timeout=20) as http:
        as_reader = await as_caller(reader.key)
        refused: list[Coroutine[Any, Any, object]] = [
            service.set_app_credentials(as_reader, KEYRING, credentials, quirks),
            service.app_credentials_status(as_reader, KEYRING),
            service.connection_status(as_reader, KEYRING),
            service.disconnect(as_reader),
            oauth_flow.start(as_reader, KEYRING, http, settings),
        ]
        for operation in refused:
            with pytest.raises(Forbidden, match="missing permission admin"):
                await operation

        as_admin = await as_caller(admin.key)
        stored = await service.set_app_credentials(as_admin, KEYRING, credentials, quirks)
        assert stored.configured
        started = await oauth_flow.start(as_admin, KEYRING, http, settings)
        assert started.authorize_url.startswith(sim.base)

        as_neighbour = await as_caller(neighbour.key)
        assert not (await service.app_credentials_status(as_neighbour, KEYRING)).configured
    # Nothing was stored for the refused caller's account.
    async with database.session() as session:
        assert await repo.app_credentials(session, KEYRING, reader.account.id) is None

"""The token manager against the simulator over loopback, on SQLite and PostgreSQL:
refresh margin, single flight, rotation, forced refresh after a 401, needs_reauth."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from tests.accounts.conftest import MakeCaller
from tests.connections.conftest import ADMIN, APP_ID, APP_SECRET, Connect, settings_for, stored
from tests.kit import storage
from tests.support.simulator import Sim
from tunedeck.connections import repository as repo
from tunedeck.connections.errors import SpotifyNeedsReauth, SpotifyNotConnected
from tunedeck.connections.models import ChannelConnection, ConnectionStatus
from tunedeck.connections.token_manager import REFRESH_MARGIN, TokenManager
from tunedeck.kit.db import Database, utcnow


async def test_fresh_token_is_used_without_refreshing(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=3600)
    client = await manager.client_for(account.account_id)
    playback = await client.playback()
    assert playback is not None
    assert playback.is_playing
    assert sim.token_calls() == 0
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.access_token == account.access_token


async def test_hundred_concurrent_calls_near_expiry_refresh_once(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=120)  # 2 minutes left: inside the 5 minute margin

    async def one() -> bool:
        playback = await (await manager.client_for(account.account_id)).playback()
        return playback is not None

    results = await asyncio.gather(*(one() for _ in range(100)))
    assert results == [True] * 100
    assert sim.token_calls() == 1
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.access_token != account.access_token
    assert row.expires_at - utcnow() > timedelta(minutes=55)
    assert row.status == ConnectionStatus.ACTIVE
    # Later calls use the stored token: no more refreshes.
    await (await manager.client_for(account.account_id)).devices()
    assert sim.token_calls() == 1


async def test_token_expiring_just_outside_margin_is_not_refreshed(
    manager: TokenManager, connect: Connect, sim: Sim
) -> None:
    account = await connect(expires_in=int(REFRESH_MARGIN.total_seconds()) + 60)
    await (await manager.client_for(account.account_id)).playback()
    assert sim.token_calls() == 0


async def test_rotated_refresh_token_is_kept_and_works_again(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=60, pkce=True)  # PKCE: every refresh rotates
    await (await manager.client_for(account.account_id)).playback()
    first = await stored(database, account.account_id)
    assert first is not None
    assert first.refresh_token not in (None, account.refresh_token)
    assert sim.token_calls() == 1

    await _expire_soon(database, account.account_id)
    await (await manager.client_for(account.account_id)).playback()
    second = await stored(database, account.account_id)
    assert second is not None
    assert second.status == ConnectionStatus.ACTIVE
    assert second.refresh_token not in (None, first.refresh_token, account.refresh_token)
    assert second.access_token != first.access_token
    assert sim.token_calls() == 2


async def test_401_forces_one_refresh_and_the_call_succeeds(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=3600)
    sim.expire(account.access_token)  # Spotify drops it early; our expiry still says 1 h
    client = await manager.client_for(account.account_id)
    playback = await client.playback()
    assert playback is not None
    assert sim.token_calls() == 1
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.access_token != account.access_token


async def test_concurrent_401s_share_one_refresh(
    manager: TokenManager, connect: Connect, sim: Sim
) -> None:
    account = await connect(expires_in=3600)
    clients = [await manager.client_for(account.account_id) for _ in range(20)]
    sim.expire(account.access_token)
    results = await asyncio.gather(*(c.devices() for c in clients))
    assert all(len(devices) == 3 for devices in results)
    assert sim.token_calls() == 1


async def test_revoked_refresh_token_means_needs_reauth_without_retry_loop(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=60)
    sim.revoke(account.refresh_token)
    client = await manager.client_for(account.account_id)
    with pytest.raises(SpotifyNeedsReauth) as caught:
        await client.playback()
    assert caught.value.status == 409
    assert caught.value.code == "spotify_needs_reauth"
    assert "connect Spotify again" in caught.value.message
    assert sim.token_calls() == 1
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.status == ConnectionStatus.NEEDS_REAUTH
    # The tokens stay (the status says what to do); nothing calls Spotify again.
    with pytest.raises(SpotifyNeedsReauth):
        await manager.client_for(account.account_id)
    assert sim.token_calls() == 1


async def test_concurrent_callers_of_a_revoked_grant_cause_one_token_call(
    manager: TokenManager, connect: Connect, sim: Sim
) -> None:
    account = await connect(expires_in=60)
    sim.revoke(account.refresh_token)
    clients = [await manager.client_for(account.account_id) for _ in range(10)]
    outcomes = await asyncio.gather(*(c.playback() for c in clients), return_exceptions=True)
    assert all(isinstance(o, SpotifyNeedsReauth) for o in outcomes)
    assert sim.token_calls() == 1


async def test_401_after_revocation_marks_needs_reauth(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=3600)
    sim.expire(account.access_token)
    sim.revoke(account.refresh_token)
    with pytest.raises(SpotifyNeedsReauth):
        await (await manager.client_for(account.account_id)).playback()
    assert sim.token_calls() == 1
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.status == ConnectionStatus.NEEDS_REAUTH


async def test_invalid_grant_after_someone_else_stored_new_tokens_is_not_reauth(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    # The streamer reconnected while a refresh with the old grant was being refused.
    account = await connect(expires_in=60)
    refused = await stored(database, account.account_id)
    assert refused is not None
    await connect(expires_in=3600, account_id=account.account_id)
    fresh = await manager._after_invalid_grant(account.account_id, refused)
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.status == ConnectionStatus.ACTIVE
    assert fresh.value == row.access_token


async def test_not_connected_errors(
    manager: TokenManager, make_caller: MakeCaller, database: Database
) -> None:
    nothing = (await make_caller(ADMIN)).account.id
    with pytest.raises(SpotifyNotConnected) as caught:
        await manager.client_for(nothing)
    assert caught.value.status == 409
    assert caught.value.code == "spotify_not_connected"
    assert "app credentials" in caught.value.message

    app_only = (await make_caller(ADMIN)).account.id
    async with database.session() as session:
        await repo.save_app_credentials(session, storage.TEST_KEYRING, app_only, "id", "secret")
    with pytest.raises(SpotifyNotConnected) as caught:
        await manager.client_for(app_only)
    assert "authorization" in caught.value.message

    with pytest.raises(SpotifyNotConnected):
        await manager.client_for(uuid.uuid4())


async def test_disconnected_while_a_client_lives_fails_cleanly(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    account = await connect(expires_in=60)
    client = await manager.client_for(account.account_id)
    async with database.session() as session:
        await repo.delete_connection(session, account.account_id)
    with pytest.raises(SpotifyNotConnected):
        await client.playback()
    assert sim.token_calls() == 0


async def test_token_endpoint_down_surfaces_and_stores_nothing(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database
) -> None:
    from tunedeck.spotify.errors import SpotifyError

    account = await connect(expires_in=60)
    manager._settings = manager._settings.model_copy(
        update={"spotify_accounts_url": "http://127.0.0.1:9"}  # nothing listens there
    )
    with pytest.raises(SpotifyError) as caught:
        await (await manager.client_for(account.account_id)).playback()
    assert caught.value.status in (503, 504)
    row = await stored(database, account.account_id)
    assert row is not None
    assert row.access_token == account.access_token
    assert row.refresh_token == account.refresh_token
    assert row.status == ConnectionStatus.ACTIVE


async def _expire_soon(database: Database, account_id: uuid.UUID) -> None:
    async with database.session() as session:
        await session.execute(
            update(ChannelConnection)
            .where(ChannelConnection.account_id == account_id)
            .values(expires_at=utcnow() + timedelta(seconds=30))
        )


async def test_refresh_logs_say_what_happened_without_secrets(
    manager: TokenManager, connect: Connect, sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rotating = await connect(expires_in=60, pkce=True)
    await (await manager.client_for(rotating.account_id)).playback()
    revoked = await connect(expires_in=60)
    sim.revoke(revoked.refresh_token)
    with pytest.raises(SpotifyNeedsReauth):
        await (await manager.client_for(revoked.account_id)).playback()

    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"refreshed the Spotify token of account {rotating.account_id}" in text
    assert "refresh token rotated" in text
    assert f"account {revoked.account_id} needs re-authorization" in text
    secrets_ = [*sim.state.tokens.access, *sim.state.tokens.refresh, APP_SECRET]
    assert [s[:6] for s in secrets_ if s in text] == []


async def test_clients_share_learned_app_restrictions_within_one_manager_only(
    manager: TokenManager, connect: Connect, sim: Sim, database: Database, tmp_path: Path
) -> None:
    """A development-mode app's search limit, found out by one client, is known to the
    manager's next client; a second manager (another app in the process) knows nothing."""
    account = await connect(expires_in=3600)
    sim.knobs(development_mode=True)

    def searches() -> int:
        return int(sim.stats()["requests"].get("GET /v1/search", 0))

    await (await manager.client_for(account.account_id)).search_tracks("e")
    assert searches() == 3  # 20 refused, then 10 + 10
    assert manager.quirks.for_app(APP_ID).search_page_limit == 10
    await (await manager.client_for(account.account_id)).search_tracks("e")
    assert searches() == 5  # straight to pages of ten

    settings = settings_for(database.url, sim, tmp_path, "http://127.0.0.1:8000")
    async with httpx.AsyncClient(timeout=20) as http:
        other = TokenManager(database, storage.TEST_KEYRING, http, settings)
        await (await other.client_for(account.account_id)).search_tracks("e")
    assert searches() == 8  # had to find out for itself

"""Connecting Spotify over real loopback HTTP: TuneDeck served with its public URL, the
simulator as Spotify. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from tests.accounts.conftest import Caller, MakeCaller
from tests.connections.conftest import ADMIN, APP_ID, APP_SECRET, Served, stored
from tests.support.simulator import Sim
from tunedeck.connections.errors import SpotifyNeedsReauth
from tunedeck.connections.models import AppCredential, ChannelConnection, OAuthState
from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.db import Database, utcnow
from tunedeck.runtime import app_runtime
from tunedeck.spotify.oauth import SCOPES

BASE = "/v1/connections/spotify"


async def admin_with_app(make_caller: MakeCaller, served: Served) -> Caller:
    caller = await make_caller(ADMIN)
    async with served.client(caller) as client:
        response = await client.put(
            f"{BASE}/app", json={"client_id": APP_ID, "client_secret": APP_SECRET}
        )
    assert response.status_code == 200, response.text
    return caller


async def callback_url(served: Served, caller: Caller, **sim_params: str) -> str:
    """Start connecting and let the simulator answer: the callback URL it redirects to."""
    async with served.client(caller) as client:
        started = await client.get(f"{BASE}/authorize", params={"format": "json"})
    assert started.status_code == 200, started.text
    url = started.json()["authorize_url"]
    if sim_params:
        url += "&" + "&".join(f"{k}={v}" for k, v in sim_params.items())
    async with httpx.AsyncClient() as browser:
        at_spotify = await browser.get(url)
    assert at_spotify.status_code == 302
    location = at_spotify.headers["location"]
    assert location.startswith(f"{served.base}{BASE}/callback?")
    return location


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def connection_count(database: Database, account_id: uuid.UUID) -> int:
    async with database.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ChannelConnection)
            .where(ChannelConnection.account_id == account_id)
        )
    return int(count or 0)


def assert_connected(status: dict[str, Any]) -> None:
    """The connection's status once the flow ended: active, all scopes, a fresh token."""
    assert status["connected"] is True
    assert status["status"] == "active"
    assert status["spotify_user_id"] == "demo"
    assert set(status["scopes"]) == set(SCOPES)
    assert status["missing_scopes"] == []
    assert status["app"] == {
        "configured": True,
        "client_id_hint": APP_ID[:4] + "…",
        "updated_at": status["app"]["updated_at"],
    }
    expires_in = datetime.fromisoformat(status["expires_at"]) - utcnow()
    assert timedelta(minutes=55) < expires_in <= timedelta(hours=1)


async def test_full_flow_headless_ends_connected(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    async with served.client(caller, follow_redirects=True) as client:
        response = await client.get(f"{BASE}/authorize")
        hops = [r.status_code for r in response.history]
        assert hops == [303, 302, 303]
        assert str(response.history[0].headers["location"]).startswith(f"{sim.base}/authorize?")
        assert urlsplit(str(response.url)).path == "/"
        assert query_of(str(response.url)) == {"connected": "spotify"}

        status = (await client.get(BASE)).json()
    assert_connected(status)
    assert sim.token_calls("authorization_code") == 1
    row = await stored(database, caller.account.id)
    assert row is not None
    assert row.refresh_token
    # The response never carries a token or the secret.
    assert row.access_token not in str(status)
    assert APP_SECRET not in str(status)


async def test_authorize_redirect_carries_state_pkce_and_scopes(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    async with served.client(caller) as client:
        response = await client.get(f"{BASE}/authorize")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{sim.base}/authorize?")
    query = query_of(location)
    assert query["client_id"] == APP_ID
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == f"{served.base}{BASE}/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert set(query["scope"].split()) == set(SCOPES)
    async with database.session() as session:
        row = await session.scalar(select(OAuthState).where(OAuthState.state == query["state"]))
    assert row is not None
    assert row.account_id == caller.account.id
    assert row.used_at is None
    assert timedelta(minutes=9) < row.expires_at - utcnow() <= timedelta(minutes=10)
    assert row.code_verifier.startswith("v1:")  # sealed, not the verifier itself


async def test_json_callback_and_return_to(
    served: Served, sim: Sim, make_caller: MakeCaller
) -> None:
    caller = await admin_with_app(make_caller, served)
    async with served.client(caller) as client:
        started = await client.get(
            f"{BASE}/authorize", params={"return_to": "/dashboard?tab=music"}
        )
    async with httpx.AsyncClient() as browser:
        back = (await browser.get(started.headers["location"])).headers["location"]
        landed = await browser.get(back)
        assert landed.status_code == 303
        assert landed.headers["location"] == "/dashboard?tab=music&connected=spotify"

    location = await callback_url(served, caller)
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        answered = await api_client.get(location)
    assert answered.status_code == 200
    body = answered.json()
    assert body["return_to"] == "/"
    assert body["connection"]["connected"] is True
    assert body["connection"]["spotify_user_id"] == "demo"


async def test_return_to_must_be_a_local_path(served: Served, make_caller: MakeCaller) -> None:
    caller = await admin_with_app(make_caller, served)
    async with served.client(caller) as client:
        for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "dashboard"):
            response = await client.get(f"{BASE}/authorize", params={"return_to": bad})
            assert response.status_code == 422, bad
            assert response.json()["error"]["code"] == "invalid_return_to"


async def test_denied_consent_stores_nothing(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller, deny="1")
    assert query_of(location)["error"] == "access_denied"
    async with httpx.AsyncClient() as browser:
        page = await browser.get(location)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "denied" in page.text
    assert await connection_count(database, caller.account.id) == 0
    assert sim.token_calls("authorization_code") == 0
    # The state is spent: the same callback cannot be replayed either.
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        replay = await api_client.get(location)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "oauth_state_used"


async def test_reused_state_is_refused_and_changes_nothing(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller)
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(location)).status_code == 303
        before = await stored(database, caller.account.id)
        again = await browser.get(location)
    assert again.status_code == 400
    assert "already used" in again.text
    after = await stored(database, caller.account.id)
    assert before is not None
    assert after == before
    assert sim.token_calls("authorization_code") == 1


async def test_concurrent_callbacks_with_one_state_connect_once(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller)
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        answers = await asyncio.gather(*(api_client.get(location) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400]
    assert sim.token_calls("authorization_code") == 1
    assert await connection_count(database, caller.account.id) == 1


async def test_expired_state_is_refused(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller)
    async with database.session() as session:
        await session.execute(
            update(OAuthState)
            .where(OAuthState.state == query_of(location)["state"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        response = await api_client.get(location)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "oauth_state_expired"
    assert await connection_count(database, caller.account.id) == 0
    assert sim.token_calls("authorization_code") == 0


async def test_unknown_or_missing_state_is_refused(served: Served, sim: Sim) -> None:
    async with httpx.AsyncClient(base_url=served.base) as browser:
        unknown = await browser.get(f"{BASE}/callback", params={"state": "nope", "code": "x"})
        missing = await browser.get(f"{BASE}/callback", params={"code": "x"})
        as_json = await browser.get(
            f"{BASE}/callback",
            params={"state": "x" * 500, "code": "x"},
            headers={"Accept": "application/json"},
        )
    assert unknown.status_code == 400
    assert "Unknown authorization state" in unknown.text
    assert missing.status_code == 400
    assert as_json.status_code == 400
    assert as_json.json()["error"]["code"] == "oauth_callback_invalid"
    assert sim.token_calls("authorization_code") == 0


async def test_state_of_another_account_is_refused(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    owner = await admin_with_app(make_caller, served)
    intruder = await admin_with_app(make_caller, served)
    location = await callback_url(served, owner)
    async with served.client(intruder, headers={"Accept": "application/json"}) as client:
        response = await client.get(location)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "oauth_state_other_account"
    assert await connection_count(database, owner.account.id) == 0
    assert await connection_count(database, intruder.account.id) == 0
    assert sim.token_calls("authorization_code") == 0


async def test_code_refused_by_spotify_stores_nothing(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller)
    forged = location.replace("code=", "code=forged")
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        response = await api_client.get(forged)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "oauth_code_refused"
    assert await connection_count(database, caller.account.id) == 0


async def test_wrong_client_secret_is_reported_not_stored(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await make_caller(ADMIN)
    async with served.client(caller) as client:
        await client.put(f"{BASE}/app", json={"client_id": APP_ID, "client_secret": "wrong"})
    location = await callback_url(served, caller)
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        response = await api_client.get(location)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "spotify_app_rejected"
    assert "wrong" not in response.text
    assert await connection_count(database, caller.account.id) == 0


async def replayed(location: str) -> httpx.Response:
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as api_client:
        return await api_client.get(location)


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("error=server_error", "oauth_refused", "Spotify did not authorize: server_error"),
        ("", "oauth_callback_invalid", "The callback has no authorization code"),
    ],
)
async def test_callback_without_a_code_spends_the_state_and_stores_nothing(
    served: Served,
    sim: Sim,
    make_caller: MakeCaller,
    database: Database,
    query: str,
    code: str,
    message: str,
) -> None:
    caller = await admin_with_app(make_caller, served)
    state = query_of(await callback_url(served, caller))["state"]
    location = f"{served.base}{BASE}/callback?state={state}" + (f"&{query}" if query else "")
    response = await replayed(location)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert message in response.json()["error"]["message"]
    assert (await replayed(location)).json()["error"]["code"] == "oauth_state_used"
    assert await connection_count(database, caller.account.id) == 0
    assert sim.token_calls("authorization_code") == 0


async def test_app_removed_before_the_callback_connects_nothing(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller)
    async with database.session() as session:
        await session.execute(
            delete(AppCredential).where(AppCredential.account_id == caller.account.id)
        )
    response = await replayed(location)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "spotify_not_connected"
    assert "no Spotify app credentials" in response.json()["error"]["message"]
    assert await connection_count(database, caller.account.id) == 0
    assert sim.token_calls("authorization_code") == 0


async def test_spotify_failing_after_the_code_exchange_stores_nothing(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    location = await callback_url(served, caller)
    sim.knobs(error_rate=1.0)  # the Web API fails: whose tokens they are cannot be read
    response = await replayed(location)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "spotify_unavailable"
    assert "did not complete the connection (503)" in response.json()["error"]["message"]
    assert sim.token_calls("authorization_code") == 1
    assert await connection_count(database, caller.account.id) == 0
    assert (await replayed(location)).json()["error"]["code"] == "oauth_state_used"


async def test_authorize_needs_app_credentials(served: Served, make_caller: MakeCaller) -> None:
    caller = await make_caller(ADMIN)
    async with served.client(caller) as client:
        response = await client.get(f"{BASE}/authorize")
        status = await client.get(BASE)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "spotify_not_connected"
    assert status.json() == {
        "platform": "spotify",
        "status": "not_connected",
        "connected": False,
        "app": {"configured": False, "client_id_hint": None, "updated_at": None},
        "spotify_user_id": None,
        "scopes": [],
        "missing_scopes": [],
        "expires_at": None,
        "connected_at": None,
        "updated_at": None,
    }


async def test_app_credentials_are_stored_sealed_and_never_shown(
    served: Served, make_caller: MakeCaller, database: Database
) -> None:
    caller = await make_caller(ADMIN)
    async with served.client(caller) as client:
        put = await client.put(
            f"{BASE}/app", json={"client_id": " my-client-id-123 ", "client_secret": "s3cr3t-xyz"}
        )
        got = await client.get(f"{BASE}/app")
        bad = [
            await client.put(f"{BASE}/app", json=body)
            for body in (
                {},
                {"client_id": "x"},
                {"client_id": "", "client_secret": "y"},
                {"client_id": "a b", "client_secret": "y"},
                {"client_id": "x", "client_secret": "y", "extra": 1},
                {"client_id": "x" * 300, "client_secret": "y"},
            )
        ]
    assert put.status_code == 200
    assert put.json()["client_id_hint"] == "my-c…"
    assert got.json() == put.json()
    for response in (put, got):
        assert "s3cr3t" not in response.text
        assert "my-client-id-123" not in response.text
    assert [r.status_code for r in bad] == [422] * 6
    async with database.session() as session:
        row = await session.scalar(
            select(AppCredential).where(AppCredential.account_id == caller.account.id)
        )
    assert row is not None
    assert row.client_id.startswith("v1:")
    assert row.client_secret.startswith("v1:")
    assert "s3cr3t" not in row.client_secret


async def test_changing_the_app_marks_the_connection_needs_reauth(
    served: Served, sim: Sim, make_caller: MakeCaller
) -> None:
    caller = await admin_with_app(make_caller, served)
    quirks = app_runtime(served.app).token_manager.quirks
    async with served.client(caller, follow_redirects=True) as client:
        await client.get(f"{BASE}/authorize")
        assert (await client.get(BASE)).json()["status"] == "active"
        # As if a client had found the app to be in development mode.
        quirks.for_app(APP_ID).search_page_limit = 10
        same = await client.put(
            f"{BASE}/app", json={"client_id": APP_ID, "client_secret": APP_SECRET}
        )
        assert same.status_code == 200
        assert (await client.get(BASE)).json()["status"] == "active"
        assert quirks.for_app(APP_ID).search_page_limit == 10  # same app: still known
        await client.put(f"{BASE}/app", json={"client_id": "other-app", "client_secret": "x"})
        status = (await client.get(BASE)).json()
    assert status["status"] == "needs_reauth"
    assert status["connected"] is False
    # What the app's token manager learned about the replaced app is forgotten.
    assert quirks.for_app(APP_ID).search_page_limit is None


async def test_disconnect_removes_tokens(
    served: Served, sim: Sim, make_caller: MakeCaller, database: Database
) -> None:
    caller = await admin_with_app(make_caller, served)
    async with served.client(caller, follow_redirects=True) as client:
        await client.get(f"{BASE}/authorize")
        assert (await client.get(BASE)).json()["connected"] is True
        deleted = await client.delete(BASE)
        status = (await client.get(BASE)).json()
        again = await client.delete(BASE)
    assert deleted.status_code == 204
    assert again.status_code == 204
    assert status["status"] == "not_connected"
    assert status["app"]["configured"] is True
    assert await connection_count(database, caller.account.id) == 0


async def test_needs_reauth_shows_in_status(
    served: Served, sim: Sim, make_caller: MakeCaller, manager: TokenManager
) -> None:
    caller = await admin_with_app(make_caller, served)
    async with served.client(caller, follow_redirects=True) as client:
        await client.get(f"{BASE}/authorize")
    sim.http.post("/_sim/tokens/revoke", json={"user": "demo"}).raise_for_status()
    sim.http.post("/_sim/tokens/expire", json={"user": "demo"}).raise_for_status()
    client_for_account = await manager.client_for(caller.account.id)
    with pytest.raises(SpotifyNeedsReauth):
        await client_for_account.playback()
    async with served.client(caller) as client:
        status = (await client.get(BASE)).json()
    assert status["status"] == "needs_reauth"
    assert status["connected"] is False
    assert status["spotify_user_id"] == "demo"
    assert sim.token_calls() == 1

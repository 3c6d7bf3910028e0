"""Dashboard sessions over HTTP: the CSRF token on state-changing cookie requests (REST and
GraphQL alike), signing in only from TuneDeck's own pages, the idle timeout within the
session's lifetime, sign-out, and revoking the key ending its sessions. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.kit import storage
from tests.support import accounts
from tests.support.app import app_settings, asgi_client
from tunedeck.accounts import repository
from tunedeck.accounts.models import DashboardSession
from tunedeck.accounts.secrets import hash_secret
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.db import Database, utcnow

database_url = storage.database_url
database = storage.database

IDLE = 3600
LIFETIME = 7 * 24 * 3600


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(
        database_url, tmp_path, session_idle_seconds=IDLE, session_ttl_seconds=LIFETIME
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def key(database: Database) -> tuple[str, str]:
    """An API key (secret, id) of a new account, holding everything the tests use."""
    account = await accounts.create_account(database, storage.unique())
    created = await accounts.create_key(
        database, account, "dashboard", ["spotify:read", "spotify:worker", "admin"]
    )
    return created.key, str(created.id)


async def sign_in(client: httpx.AsyncClient, secret: str) -> dict[str, Any]:
    answer = await client.post("/v1/session", json={"key": secret})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def session_row(database: Database, client: httpx.AsyncClient) -> DashboardSession:
    digest = hash_secret(client.cookies["tunedeck_session"])
    async with database.session() as session:
        found = await repository.live_session_by_hash(session, digest, utcnow())
        assert found is not None
        return found[0]


async def set_session_times(database: Database, client: httpx.AsyncClient, **values: Any) -> None:
    digest = hash_secret(client.cookies["tunedeck_session"])
    async with database.session() as session:
        await session.execute(
            update(DashboardSession).where(DashboardSession.token_hash == digest).values(**values)
        )
        await session.commit()


async def test_the_page_knows_its_csrf_token_and_the_cookie_alone_changes_nothing(
    app: FastAPI, key: tuple[str, str]
) -> None:
    async with asgi_client(app) as client:
        signed_in = await sign_in(client, key[0])
        token = signed_in["csrf_token"]
        assert signed_in["idle_timeout_seconds"] == IDLE
        assert key[0] not in token
        current = await client.get("/v1/session")
        assert current.status_code == 200
        assert current.json()["csrf_token"] == token
        assert current.json()["me"]["kind"] == "session"

        # Reads need no token; changes do, at every door.
        assert (await client.get("/v1/spotify/manual-connect")).status_code == 200
        for method, path, body in [
            ("POST", "/v1/spotify/manual-connect", None),
            ("POST", "/v1/keys", {"label": "x", "permissions": ["spotify:read"]}),
            ("POST", "/graphql", {"query": "mutation { stopSpotifyManual }"}),
            ("DELETE", "/v1/session", None),
        ]:
            for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": token + "x"}):
                answer = await client.request(method, path, json=body, headers=headers)
                assert answer.status_code == 403, (method, path, headers, answer.text)
                assert answer.json()["error"]["code"] == "csrf_failed"

        with_token = {"X-CSRF-Token": token}
        created = await client.post("/v1/overlay-tokens", json={"label": "OBS"}, headers=with_token)
        assert created.status_code == 201, created.text
        stopped = await client.post(
            "/graphql", json={"query": "mutation { stopSpotifyManual }"}, headers=with_token
        )
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["data"] == {"stopSpotifyManual": False}  # it was not on

        # A key in the Authorization header is not sent by a browser on its own: no token.
        bearer = {"Authorization": f"Bearer {key[0]}"}
        assert (await client.get("/v1/session", headers=bearer)).status_code == 404
        async with asgi_client(app) as plain:
            answer = await plain.post("/v1/overlay-tokens", json={}, headers=bearer)
            assert answer.status_code == 201

        logout = await client.delete("/v1/session", headers=with_token)
        assert logout.status_code == 204
        assert (await client.get("/v1/session")).status_code == 401


async def test_each_session_has_its_own_token(app: FastAPI, key: tuple[str, str]) -> None:
    async with asgi_client(app) as first, asgi_client(app) as second:
        one = await sign_in(first, key[0])
        two = await sign_in(second, key[0])
        assert one["csrf_token"] != two["csrf_token"]
        wrong = await first.post(
            "/v1/overlay-tokens", json={}, headers={"X-CSRF-Token": two["csrf_token"]}
        )
        assert wrong.status_code == 403


async def test_signing_in_from_another_site_is_refused(app: FastAPI, key: tuple[str, str]) -> None:
    async with asgi_client(app) as client:
        for site in ("cross-site", "same-site"):
            answer = await client.post(
                "/v1/session", json={"key": key[0]}, headers={"Sec-Fetch-Site": site}
            )
            assert answer.status_code == 403
            assert answer.json()["error"]["code"] == "csrf_failed"
            assert "set-cookie" not in answer.headers
        same_origin = await client.post(
            "/v1/session", json={"key": key[0]}, headers={"Sec-Fetch-Site": "same-origin"}
        )
        assert same_origin.status_code == 200


async def test_idle_sessions_end_and_used_ones_slide_within_their_lifetime(
    app: FastAPI, key: tuple[str, str], database: Database
) -> None:
    async with asgi_client(app) as client:
        await sign_in(client, key[0])
        row = await session_row(database, client)
        assert row.expires_at - row.created_at == timedelta(seconds=IDLE)

        # Used with less than the idle time left: the deadline moves to idle from now.
        await set_session_times(database, client, expires_at=utcnow() + timedelta(seconds=60))
        assert (await client.get("/v1/me")).status_code == 200
        row = await session_row(database, client)
        assert row.expires_at > utcnow() + timedelta(seconds=IDLE - 120)

        # ... but never past the session's lifetime.
        near_end = utcnow() - timedelta(seconds=LIFETIME - 300)
        await set_session_times(
            database, client, created_at=near_end, expires_at=utcnow() + timedelta(seconds=60)
        )
        assert (await client.get("/v1/me")).status_code == 200
        row = await session_row(database, client)
        assert row.expires_at <= near_end + timedelta(seconds=LIFETIME)

        # Unused past its deadline: over.
        await set_session_times(database, client, expires_at=utcnow() - timedelta(seconds=1))
        assert (await client.get("/v1/me")).status_code == 401
        assert (await client.get("/v1/session")).status_code == 401


async def test_revoking_the_key_ends_its_sessions(app: FastAPI, key: tuple[str, str]) -> None:
    async with asgi_client(app) as client:
        signed_in = await sign_in(client, key[0])
        csrf = {"X-CSRF-Token": signed_in["csrf_token"]}
        assert (await client.get("/v1/me")).status_code == 200
        revoked = await client.delete(f"/v1/keys/{key[1]}", headers=csrf)
        assert revoked.status_code == 204
        assert (await client.get("/v1/me")).status_code == 401

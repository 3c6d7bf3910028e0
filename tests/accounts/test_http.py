"""The accounts REST API over ASGI, on both backends."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.accounts.conftest import Caller, MakeCaller
from tunedeck.accounts.models import ApiKey
from tunedeck.accounts.secrets import hash_secret
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.db import Database


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer tdk_not-a-real-key"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "tdk_without_scheme"},
        {"Cookie": "tunedeck_session=tds_forged"},
    ],
    ids=["none", "unknown", "empty", "basic", "no-scheme", "forged-cookie"],
)
async def test_401_without_valid_credentials(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = error_of(response)
    assert error["code"] == "unauthorized"
    assert error["message"]


async def test_me(client: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    caller = await make_caller("spotify:read", "spotify:queue")
    response = await client.get("/v1/me", headers=caller.headers)
    assert response.status_code == 200
    assert response.json() == {
        "account": {"id": str(caller.account.id), "name": caller.account.name},
        "kind": "api_key",
        "label": "test key",
        "key_id": caller.key_id,
        "permissions": ["overlay:read", "spotify:queue", "spotify:read"],
    }


async def test_403_names_the_missing_permission(
    client: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    caller = await make_caller("spotify:read", "spotify:playback")
    response = await client.get("/v1/keys", headers=caller.headers)
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "missing_permission"
    assert "admin" in error["message"]
    assert error["details"] == {"permission": "admin"}  # type: ignore[comparison-overlap]


async def test_key_management(
    client: httpx.AsyncClient, make_caller: MakeCaller, database: Database
) -> None:
    admin = await make_caller("admin")
    created = await client.post(
        "/v1/keys",
        headers=admin.headers,
        json={"label": "mod bot", "permissions": ["spotify:read", "spotify:queue"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["key"]
    assert body["permissions"] == ["spotify:queue", "spotify:read"]
    assert secret.startswith(body["prefix"])

    listed = await client.get("/v1/keys", headers=admin.headers)
    assert listed.status_code == 200
    assert secret not in listed.text
    assert {k["label"] for k in listed.json()} == {"test key", "mod bot"}
    async with database.session() as session:
        stored = await session.get(ApiKey, uuid.UUID(body["id"]))
    assert stored is not None
    assert stored.key_hash == hash_secret(secret)

    new_key = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/v1/me", headers=new_key)).json()["label"] == "mod bot"
    revoked = await client.delete(f"/v1/keys/{body['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    assert (await client.get("/v1/me", headers=new_key)).status_code == 401
    listed = (await client.get("/v1/keys", headers=admin.headers)).json()
    assert next(k for k in listed if k["id"] == body["id"])["revoked_at"] is not None


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"label": "x", "permissions": ["spotify:read", "spotify:all"]}, "'spotify:all'"),
        ({"label": "x", "permissions": []}, "permissions"),
        ({"label": "", "permissions": ["spotify:read"]}, "label"),
        ({"label": "x", "permissions": ["SPOTIFY:READ"]}, "'SPOTIFY:READ'"),
        ({"label": "x", "permissions": "admin"}, "permissions"),
        ({"label": "x", "permissions": ["admin"], "extra": 1}, "extra"),
    ],
)
async def test_bad_key_requests_are_422(
    client: httpx.AsyncClient, make_caller: MakeCaller, payload: object, fragment: str
) -> None:
    admin = await make_caller("admin")
    response = await client.post("/v1/keys", headers=admin.headers, json=payload)
    assert response.status_code == 422
    assert fragment in error_of(response)["message"]
    assert len((await client.get("/v1/keys", headers=admin.headers)).json()) == 1


async def test_cross_account_is_404(client: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    alice = await make_caller("admin")
    bob = await make_caller("admin")
    token = await client.post("/v1/overlay-tokens", headers=alice.headers, json={})
    token_id = token.json()["id"]

    for path in (f"/v1/keys/{alice.key_id}", f"/v1/overlay-tokens/{token_id}"):
        response = await client.delete(path, headers=bob.headers)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    bobs_keys = (await client.get("/v1/keys", headers=bob.headers)).json()
    assert [k["id"] for k in bobs_keys] == [bob.key_id]
    assert (await client.get("/v1/overlay-tokens", headers=bob.headers)).json() == []
    # Alice's key and token are untouched.
    assert (await client.get("/v1/me", headers=alice.headers)).status_code == 200
    alices_tokens = (await client.get("/v1/overlay-tokens", headers=alice.headers)).json()
    assert [t["revoked_at"] for t in alices_tokens] == [None]


async def test_malformed_ids_are_422(client: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    admin = await make_caller("admin")
    response = await client.delete("/v1/keys/not-a-uuid", headers=admin.headers)
    assert response.status_code == 422
    assert "key_id" in error_of(response)["message"]


async def test_overlay_tokens(client: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    admin = await make_caller("admin")
    created = await client.post("/v1/overlay-tokens", headers=admin.headers, json={"label": "OBS"})
    assert created.status_code == 201
    body = created.json()
    assert body["overlay_url"] == f"http://127.0.0.1:8000/overlay#token={body['token']}"
    listed = await client.get("/v1/overlay-tokens", headers=admin.headers)
    assert body["token"] not in listed.text
    assert [t["label"] for t in listed.json()] == ["OBS"]

    overlay = {"Authorization": f"Bearer {body['token']}"}
    for method, path in [
        ("GET", "/v1/me"),
        ("GET", "/v1/keys"),
        ("POST", "/v1/keys"),
        ("GET", "/v1/overlay-tokens"),
        ("DELETE", "/v1/session"),
    ]:
        response = await client.request(method, path, headers=overlay, json={})
        assert response.status_code == 403, (method, path)
        assert "overlay tokens can only read now playing" in error_of(response)["message"]
    # Nor can it be traded for a dashboard session.
    login = await client.post("/v1/session", json={"key": body["token"]})
    assert login.status_code == 401

    assert (
        await client.delete(f"/v1/overlay-tokens/{body['id']}", headers=admin.headers)
    ).status_code == 204
    assert (await client.get("/v1/me", headers=overlay)).status_code == 401


async def test_session_cookie(client: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    caller = await make_caller("spotify:read")
    response = await client.post("/v1/session", json={"key": caller.key})
    assert response.status_code == 200, response.text
    assert response.json()["me"]["account"]["name"] == caller.account.name
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "secure" not in attributes  # plain http public URL
    assert caller.key not in cookie
    secret = client.cookies["tunedeck_session"]
    assert secret.startswith("tds_")

    me = await client.get("/v1/me")
    assert me.status_code == 200
    assert me.json()["kind"] == "session"
    # The session carries the key's permissions, no more.
    assert (await client.get("/v1/keys")).status_code == 403

    # Changes made with the cookie need the session's CSRF token.
    refused = await client.delete("/v1/session")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "csrf_failed"
    csrf = {"X-CSRF-Token": response.json()["csrf_token"]}
    logout = await client.delete("/v1/session", headers=csrf)
    assert logout.status_code == 204
    assert "tunedeck_session" not in client.cookies
    stale = await client.get("/v1/me", headers={"Cookie": f"tunedeck_session={secret}"})
    assert stale.status_code == 401


async def test_session_refused_for_bad_keys(client: httpx.AsyncClient) -> None:
    for body in ({"key": "tdk_nope"}, {"key": "tds_nope"}):
        response = await client.post("/v1/session", json=body)
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
    assert (await client.post("/v1/session", json={})).status_code == 422


async def test_secure_cookie_behind_https(settings: Settings, make_caller: MakeCaller) -> None:
    app: FastAPI = create_app(settings.model_copy(update={"public_url": "https://deck.example"}))
    caller: Caller = await make_caller("spotify:read")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://deck.example") as c:
            response = await c.post("/v1/session", json={"key": caller.key})
    assert "secure" in response.headers["set-cookie"].lower()


async def test_last_used_is_recorded(
    client: httpx.AsyncClient, make_caller: MakeCaller, database: Database
) -> None:
    caller = await make_caller("spotify:read")
    async with database.session() as session:
        before = await session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.id == uuid.UUID(caller.key_id))
        )
    assert before is None
    assert (await client.get("/v1/me", headers=caller.headers)).status_code == 200
    async with database.session() as session:
        after = await session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.id == uuid.UUID(caller.key_id))
        )
    assert after is not None

"""Chat tokens through REST and the command line: shown once, listed without the
secret, revoked, another account's never found, admin only; the bot commands."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from tests.accounts.conftest import MakeCaller
from tests.accounts.test_cli import env, run
from tests.chat.conftest import MakeToken
from tests.kit.storage import unique
from tests.player.conftest import MakeStreamer
from tunedeck.accounts.secrets import hash_secret
from tunedeck.chat.snippets import COMMANDS, TOKEN_PLACEHOLDER
from tunedeck.kit.db import Database
from tunedeck.requests.models import ChatToken

__all__ = ["env"]

BOTS = {"nightbot", "streamelements", "fossabot", "streamlabs", "streamerbot"}


async def test_create_list_revoke(
    client: httpx.AsyncClient, make_caller: MakeCaller, database: Database
) -> None:
    admin = await make_caller("admin")
    created = await client.post(
        "/v1/chat-tokens", headers=admin.headers, json={"label": "nightbot", "trust_roles": False}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith("tdc_")
    assert body["prefix"] == token[:12]
    assert body["trust_roles"] is False
    assert body["label"] == "nightbot"
    assert {bot["bot"] for bot in body["bots"]} == BOTS
    for bot in body["bots"]:
        assert [command["command"] for command in bot["commands"]] == [
            f"!{command.name}" for command in COMMANDS
        ]
        assert all(token in command["text"] for command in bot["commands"])
    async with database.session() as session:
        row = await session.scalar(select(ChatToken).where(ChatToken.id == uuid.UUID(body["id"])))
    assert row is not None
    assert row.token_hash == hash_secret(token)
    assert token not in str(vars(row))

    listed = await client.get("/v1/chat-tokens", headers=admin.headers)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == [body["id"]]
    assert token not in listed.text
    assert "bots" not in listed.json()[0]

    assert (
        await client.delete(f"/v1/chat-tokens/{body['id']}", headers=admin.headers)
    ).status_code == 204
    listed = (await client.get("/v1/chat-tokens", headers=admin.headers)).json()
    assert listed[0]["revoked_at"] is not None


async def test_admin_only_and_accounts_apart(
    client: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    admin = await make_caller("admin")
    other = await make_caller("admin")
    reader = await make_caller("requests:read", "requests:moderate", "spotify:read")
    created = (await client.post("/v1/chat-tokens", headers=admin.headers, json={})).json()
    assert created["label"] == "chat bot"
    assert created["trust_roles"] is True
    for method, path in (
        ("GET", "/v1/chat-tokens"),
        ("POST", "/v1/chat-tokens"),
        ("DELETE", f"/v1/chat-tokens/{created['id']}"),
        ("POST", "/v1/chat-tokens/snippets"),
    ):
        body: dict[str, object] | None = {} if method == "POST" else None
        response = await client.request(method, path, headers=reader.headers, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert (await client.request(method, path, json=body)).status_code == 401
    # Another account's admin: not found, and its list is its own.
    gone = await client.delete(f"/v1/chat-tokens/{created['id']}", headers=other.headers)
    assert gone.status_code == 404
    assert (await client.get("/v1/chat-tokens", headers=other.headers)).json() == []
    theirs = await client.post(
        "/v1/chat-tokens/snippets", headers=other.headers, json={"token": created["token"]}
    )
    assert theirs.status_code == 404
    assert created["token"] not in theirs.text


async def test_snippets_endpoint(client: httpx.AsyncClient, make_caller: MakeCaller) -> None:
    admin = await make_caller("admin")
    placeholder = await client.post("/v1/chat-tokens/snippets", headers=admin.headers, json={})
    assert placeholder.status_code == 200
    assert {bot["bot"] for bot in placeholder.json()} == BOTS
    assert TOKEN_PLACEHOLDER in placeholder.text
    created = (await client.post("/v1/chat-tokens", headers=admin.headers, json={})).json()
    given = await client.post(
        "/v1/chat-tokens/snippets", headers=admin.headers, json={"token": created["token"]}
    )
    assert given.status_code == 200
    assert created["token"] in given.text
    nightbot = next(bot for bot in given.json() if bot["bot"] == "nightbot")
    assert nightbot["commands"][0] == {
        "command": "!sr",
        "moderators_only": False,
        "text": "$(urlfetch http://127.0.0.1:8000/v1/chat/sr?token="
        f"{created['token']}&q=$(querystring))",
    }
    await client.delete(f"/v1/chat-tokens/{created['id']}", headers=admin.headers)
    revoked = await client.post(
        "/v1/chat-tokens/snippets", headers=admin.headers, json={"token": created["token"]}
    )
    assert revoked.status_code == 404


@pytest.mark.parametrize("body", [{"label": "x" * 101}, {"trust_roles": "yes"}, {"other": 1}])
async def test_bad_bodies(
    client: httpx.AsyncClient, make_caller: MakeCaller, body: dict[str, object]
) -> None:
    admin = await make_caller("admin")
    response = await client.post("/v1/chat-tokens", headers=admin.headers, json=body)
    assert response.status_code in (400, 422), response.text
    assert (await client.get("/v1/chat-tokens", headers=admin.headers)).json() == []


def test_cli(env: dict[str, str]) -> None:
    name = unique()
    assert run("account", "create", name)[0] == 0
    code, out, err = run("chat-token", "create", "--account", name, "--label", "nightbot")
    assert code == 0, err
    token = out.splitlines()[0]
    assert token.startswith("tdc_")
    assert f"$(urlfetch http://127.0.0.1:8000/v1/chat/sr?token={token}" in out
    assert "Streamer.bot" in out
    assert "StreamElements" in out
    token_id = err.split("chat token id: ")[1].split()[0]
    listed = run("chat-token", "list", "--account", name)[1]
    assert token_id in listed
    assert "trusts roles" in listed
    assert token not in listed
    code, out, err = run("chat-token", "create", "--account", name, "--no-trust-roles")
    assert code == 0
    assert "everyone regular" in run("chat-token", "list", "--account", name)[1]
    assert run("chat-token", "revoke", token_id)[0] == 0
    assert "revoked" in run("chat-token", "list", "--account", name)[1]
    code, _, err = run("chat-token", "revoke", "not-an-id")
    assert code == 2
    assert "not an id" in err
    assert run("chat-token", "revoke", str(uuid.uuid4()))[0] != 0


async def test_operator_tokens_are_the_accounts(
    make_streamer: MakeStreamer, make_token: MakeToken, client: httpx.AsyncClient
) -> None:
    streamer = await make_streamer()
    created = await make_token(streamer, label="obs chat")
    listed = await client.get("/v1/chat-tokens", headers=streamer.headers)
    assert [t["label"] for t in listed.json()] == ["obs chat"]
    assert created.token not in listed.text

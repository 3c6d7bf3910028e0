"""``GET /v1/spotify/live`` over WebSocket, served by a real uvicorn, on both backends:
what a key and an overlay token receive, every way to authenticate, and the close codes."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.conftest import connect as connect_spotify
from tests.realtime.conftest import new_account
from tests.realtime.feed_support import Keys, feed, make_keys, served
from tests.realtime.support import LIVENESS
from tests.support import accounts
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.messages import NowPlaying
from tunedeck.runtime import app_runtime


async def streamer(database: Database, sim: Sim) -> Keys:
    account_id = await new_account(database)
    await connect_spotify(database, sim, account_id)
    return await make_keys(database, account_id)


async def test_key_gets_hello_now_playing_then_events_and_changes(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server, feed(server.ws, token=keys.key) as client:
        (hello,) = await client.wait_for("hello")
        assert hello["account_id"] == str(keys.account_id)
        assert hello["reads"] == ["now_playing", "event", "status", "play"]
        assert isinstance(hello["id"], int)
        # A fresh now_playing at once (one Spotify read: nothing was cached), never a wait;
        # the poller's first poll may publish one right behind it.
        first = (await client.wait_for("now_playing"))[0]
        assert first["now_playing"]["track"]["name"]
        assert first["id"] == hello["id"]
        assert isinstance(first["server_time"], int)
        assert client.messages[:2] == [hello, first]

        async with httpx.AsyncClient(base_url=server.base, headers=keys.headers) as http:
            answer = await http.post("/v1/spotify/playback", json={"action": "next"})
            assert answer.status_code == 200, answer.text
        (event,) = await client.wait_for("event")
        assert event["event"]["type"] == "spotify:skip"
        assert event["event"]["actor"]["label"] == "feed"
        assert event["id"] > hello["id"]

        # What the poller publishes reaches the client, ids increasing in delivery order.
        changed = await sim_now_playing(server.app, keys.account_id)
        await client.wait_for("now_playing", where=lambda m: m["id"] == changed)
        ids = [m["id"] for m in client.messages]
        assert ids == sorted(ids)


async def sim_now_playing(app: FastAPI, account_id: uuid.UUID) -> int:
    bus = app_runtime(app).bus
    message = NowPlaying(now_playing=None).to_wire()
    return int(await bus.publish(account_id, message))


async def test_overlay_token_gets_now_playing_never_events(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with (
        served(settings) as server,
        feed(server.ws, auth_message={"type": "auth", "token": keys.overlay}) as overlay,
        feed(server.ws, token=keys.key) as key_client,
    ):
        (hello,) = await overlay.wait_for("hello")
        assert hello["reads"] == ["now_playing", "status"]
        await overlay.wait_for("now_playing")
        await key_client.wait_for("now_playing")
        async with httpx.AsyncClient(base_url=server.base, headers=keys.headers) as http:
            for action in ("pause", "play"):
                answer = await http.post("/v1/spotify/playback", json={"action": action})
                assert answer.status_code == 200, answer.text
        await key_client.wait_for("event", 2)
        await sim_now_playing(server.app, keys.account_id)
        # Published after the events: once the overlay has it, it would have had them.
        await overlay.wait_for("now_playing", 2)
        await key_client.wait_for("now_playing", 2)
        assert overlay.of_type("event") == []
        assert {m["type"] for m in overlay.messages} <= {"hello", "now_playing", "status"}


async def test_auth_by_message_wins_over_the_handshake_credentials(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """An overlay opened in a browser signed in with a key is its token, not the key."""
    keys = await streamer(database, sim)
    overlay_auth = {"type": "auth", "token": keys.overlay}
    async with (
        served(settings) as server,
        feed(f"{server.ws}?auth=message", token=keys.key, auth_message=overlay_auth) as page,
    ):
        (hello,) = await page.wait_for("hello")
        assert hello["reads"] == ["now_playing", "status"]
    # Without the flag the handshake's key decides, and a second auth is refused.
    async with served(settings) as server, feed(server.ws, token=keys.key) as keyed:
        (hello,) = await keyed.wait_for("hello")
        assert "event" in hello["reads"]


@pytest.mark.parametrize("how", ["header", "first_message", "query", "session_cookie"])
async def test_ways_to_authenticate(
    settings: Settings, database: Database, sim: Sim, how: str
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server:
        url, options = server.ws, dict[str, Any]()
        if how == "header":
            options = {"token": keys.key}
        elif how == "first_message":
            options = {"auth_message": {"type": "auth", "token": keys.overlay}}
        elif how == "query":
            url = f"{server.ws}?token={keys.overlay}"
        else:
            async with httpx.AsyncClient(base_url=server.base) as http:
                answer = await http.post("/v1/session", json={"key": keys.key})
                assert answer.status_code in (200, 201), answer.text
                cookie = answer.cookies["tunedeck_session"]
            options = {"headers": {"Cookie": f"tunedeck_session={cookie}"}}
        async with feed(url, **options) as client:
            await client.wait_for("now_playing")
            assert client.messages[0]["type"] == "hello"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_query_token_never_reaches_the_logs(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    written = Lines()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.access")]
    levels = [(log.level, log.disabled) for log in loggers]
    for log in loggers:
        log.addHandler(written)
        log.setLevel(logging.INFO)
        log.disabled = False  # a logging configuration run earlier may have disabled them
    try:
        # log_config=None: the loggers as set here; the access log on, as an operator may.
        async with served(settings, log_config=None, log_level="info", access_log=True) as server:
            async with feed(f"{server.ws}?token={keys.overlay}") as client:
                await client.wait_for("now_playing")
            async with feed(f"{server.ws}?token=tdo_not-a-real-token") as refused:
                assert (await refused.wait_closed())[0] == 4401
            async with httpx.AsyncClient() as http:
                await http.get(f"{server.http}?token={keys.overlay}")
    finally:
        for log, (level, disabled) in zip(loggers, levels, strict=True):
            log.removeHandler(written)
            log.setLevel(level)
            log.disabled = disabled
    handshakes = [line for line in written.lines if '"WebSocket ' in line]
    assert len(handshakes) == 2, written.lines
    assert all("token=[redacted]" in line for line in handshakes)
    assert any("GET /v1/spotify/live?token=[redacted]" in line for line in written.lines)
    assert not [line for line in written.lines if keys.overlay in line]
    assert not [line for line in written.lines if "tdo_not-a-real-token" in line]


async def test_close_codes(settings: Settings, database: Database, sim: Sim) -> None:
    keys = await streamer(database, sim)
    auth = {"type": "auth", "token": keys.key}
    cases: list[tuple[str, dict[str, object], object, int, str]] = [
        ("malformed JSON", {}, "{not json", 4400, "not valid JSON"),
        ("not an object", {}, "[1, 2]", 4400, "JSON object"),
        ("unknown type first", {}, {"type": "subscribe"}, 4400, "'subscribe'"),
        # Past max_body_bytes: the server refuses it before the feed reads it.
        ("oversized", {}, {"type": "auth", "token": "x" * 70_000}, 1009, ""),
        ("binary", {}, b"\x00\x01", 4400, "binary"),
        ("auth field unknown", {}, {**auth, "extra": 1}, 4400, "'extra'"),
        ("bad token", {}, {"type": "auth", "token": "tdk_nope"}, 4401, "invalid"),
        ("no token", {}, {"type": "auth"}, 4401, "token"),
        ("bad since", {}, {**auth, "since": "yesterday"}, 4400, "since"),
        (
            "no read permission",
            {},
            {"type": "auth", "token": keys.no_read_key},
            4403,
            "spotify:read",
        ),
        ("foreign origin", {"origin": "https://evil.example"}, auth, 4403, "origin"),
        ("message after auth", {}, None, 4400, "'hello'"),
        ("auth twice", {}, auth, 4400, "already authenticated"),
    ]
    async with served(settings) as server:
        for name, options, first, code, reason in cases:
            headers = {"Origin": str(options["origin"])} if "origin" in options else {}
            async with connect(server.ws, additional_headers=headers) as ws:
                if name in ("message after auth", "auth twice"):
                    await ws.send(json.dumps(auth))
                    await ws.recv()  # hello: authenticated
                    first = {"type": "hello"} if name == "message after auth" else auth
                # Refused before reading anything (a foreign origin): the send may fail.
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(first if isinstance(first, bytes | str) else json.dumps(first))
                with contextlib.suppress(ConnectionClosed):
                    while True:
                        await ws.recv()
                assert ws.close_code == code, f"{name}: {ws.close_code} {ws.close_reason}"
                assert reason in (ws.close_reason or ""), f"{name}: {ws.close_reason}"
                assert keys.key not in (ws.close_reason or "")
        # The process is unaffected: a good client still gets its messages.
        async with feed(server.ws, token=keys.key) as client:
            await client.wait_for("now_playing")


async def test_allowed_origins(settings: Settings, database: Database, sim: Sim) -> None:
    keys = await streamer(database, sim)
    allowed = settings.model_copy(update={"allowed_origins": "https://overlay.example"})
    async with served(allowed) as server:
        port = server.base.rsplit(":", 1)[1]
        for origin in ("https://overlay.example", f"http://127.0.0.1:{port}", allowed.public_url):
            async with feed(server.ws, token=keys.overlay, headers={"Origin": origin}) as client:
                await client.wait_for("now_playing")
        async with feed(
            server.ws, token=keys.overlay, headers={"Origin": "https://x.example"}
        ) as c:
            assert (await c.wait_closed())[0] == 4403


async def test_origins_are_judged_by_the_names_tunedeck_answers_as(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """A page's ``Origin`` is compared with the names TuneDeck is served as (the loopback
    names on the listening port, TUNEDECK_ALLOWED_HOSTS: kit.hosts), never with the
    request's own ``Host``, which a page on a name rebound to 127.0.0.1 chooses."""
    keys = await streamer(database, sim)
    named = settings.model_copy(update={"allowed_hosts": "deck.example, *"})
    async with served(named) as server:
        port = int(server.base.rsplit(":", 1)[1])
        for origin in (f"http://localhost:{port}", f"http://[::1]:{port}", "https://deck.example"):
            async with feed(server.ws, token=keys.overlay, headers={"Origin": origin}) as client:
                await client.wait_for("now_playing")
        # "*" lets any Host through (a proxy in front checks it): the page is still not ours.
        rebound = server.ws.replace("127.0.0.1", "evil.example")
        async with feed(
            rebound,
            host="127.0.0.1",
            port=port,
            token=keys.overlay,
            headers={"Origin": f"http://evil.example:{port}"},
        ) as client:
            assert (await client.wait_closed())[0] == 4403


async def test_revoked_credentials_are_closed(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """Revoking through the API, or straight in the database as the command line does:
    every connection using the credential is closed (4401), the others stay."""
    keys = await streamer(database, sim)
    async with (
        served(settings) as server,
        feed(server.ws, token=keys.overlay) as overlay,
        feed(server.ws, token=keys.overlay) as overlay_too,
        feed(server.ws, token=keys.key) as key_client,
    ):
        for client in (overlay, overlay_too, key_client):
            await client.wait_for("now_playing")
        async with httpx.AsyncClient(base_url=server.base, headers=keys.headers) as http:
            answer = await http.delete(f"/v1/overlay-tokens/{keys.overlay_id}")
            assert answer.status_code in (200, 204), answer.text
        for client in (overlay, overlay_too):
            assert await client.wait_closed(LIVENESS) == (4401, "credential revoked")
        assert not key_client.closed
        await accounts.revoke_key(database, keys.key_id)
        assert await key_client.wait_closed(LIVENESS) == (4401, "credential revoked")
        # And a new connection with it is refused.
        async with feed(server.ws, token=keys.key) as again:
            assert (await again.wait_closed())[0] == 4401

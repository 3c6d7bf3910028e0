"""Resuming after a disconnect (WebSocket ``since``, SSE ``Last-Event-ID``), the reset
when that is not possible, and a slow consumer closed while the others keep receiving."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.feed_support import Keys, feed, served, sse_lines
from tests.realtime.support import LIVENESS
from tests.realtime.test_feed import streamer
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.messages import Status, StatusKind


async def skips(base: str, keys: Keys, count: int) -> None:
    async with httpx.AsyncClient(base_url=base, headers=keys.headers, timeout=60) as http:
        for _ in range(count):
            answer = await http.post("/v1/spotify/playback", json={"action": "next"})
            assert answer.status_code == 200, answer.text


async def test_resume_gets_exactly_the_missed_events_in_order(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server, feed(server.ws, token=keys.key) as watcher:
        async with feed(server.ws, token=keys.key) as leaving:
            await skips(server.base, keys, 2)
            before = await leaving.wait_for("event", 2)
            last_seen = leaving.messages[-1]["id"]
        await skips(server.base, keys, 3)
        # Another client saw them published: they are what the leaver missed.
        missed = (await watcher.wait_for("event", 5))[2:]

        url = f"{server.ws}?since={last_seen}"
        async with feed(url, token=keys.key) as back:
            (now,) = await back.wait_for("now_playing")
            replayed = back.of_type("event")
            assert [m["type"] for m in back.messages[: 2 + len(missed)]] == [
                "hello",
                *["event"] * len(missed),
                "now_playing",
            ]
            assert [m["event"]["id"] for m in replayed] == [m["event"]["id"] for m in missed]
            assert [m["id"] for m in replayed] == [m["id"] for m in missed]
            assert not {m["event"]["id"] for m in before} & {m["event"]["id"] for m in replayed}
            assert now["id"] >= replayed[-1]["id"]
            # Live messages follow, once each.
            await skips(server.base, keys, 1)
            live = await back.wait_for("event", len(missed) + 1)
            ids = [m["event"]["id"] for m in live]
            assert len(ids) == len(set(ids))

        # The same through the first message, as a browser resumes.
        resume = {"type": "auth", "token": keys.key, "since": last_seen}
        async with feed(server.ws, auth_message=resume) as again:
            await again.wait_for("now_playing")
            ids = [m["event"]["id"] for m in again.of_type("event")]
            assert ids[: len(missed)] == [m["event"]["id"] for m in missed]


async def test_resume_from_too_old_or_unknown_gets_a_reset_then_a_snapshot(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server:
        async with feed(server.ws, token=keys.key) as first:
            (hello,) = await first.wait_for("hello")
        for since, why in ((1, "too old"), (hello["id"] + 10**6, "started over")):
            async with feed(f"{server.ws}?since={since}", token=keys.key) as client:
                await client.wait_for("now_playing")
                kinds = [m["type"] for m in client.messages[:3]]
                assert kinds == ["hello", "reset", "now_playing"]
                assert why in client.messages[1]["reason"]


async def test_sse_stream_and_last_event_id_resume(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server, httpx.AsyncClient() as http:
        opening = await sse_lines(http, server.http, keys.headers, 2)
        assert [e["data"]["type"] for e in opening] == ["hello", "now_playing"]
        assert all(e["id"] == e["data"]["id"] for e in opening)
        last = opening[-1]["id"]

        async with feed(server.ws, token=keys.key) as watcher:
            await skips(server.base, keys, 2)
            missed = await watcher.wait_for("event", 2)
        headers = {**keys.headers, "Last-Event-ID": str(last)}
        resumed = await sse_lines(http, server.http, headers, 4)
        assert [e["data"]["type"] for e in resumed] == ["hello", "event", "event", "now_playing"]
        assert [e["data"]["event"]["id"] for e in resumed[1:3]] == [
            m["event"]["id"] for m in missed
        ]
        assert [e["id"] for e in resumed[1:3]] == [m["id"] for m in missed]

        # Overlay tokens over SSE: now playing, no events.
        overlay = {"Authorization": f"Bearer {keys.overlay}", "Last-Event-ID": str(last)}
        shown = await sse_lines(http, server.http, overlay, 2)
        assert [e["data"]["type"] for e in shown] == ["hello", "now_playing"]

        # Errors are the API's: 401 without credentials, 406 without the SSE Accept.
        assert (
            await http.get(server.http, headers={"Accept": "text/event-stream"})
        ).status_code == 401
        plain = await http.get(server.http, headers=keys.headers)
        assert plain.status_code == 406
        assert plain.json()["error"]["code"] == "not_acceptable"


# Held by the lean socket (what serve runs), and served from its task (uvicorn's protocol).
@pytest.mark.parametrize("protocol", [{}, {"ws": "websockets-sansio"}], ids=["lean", "sansio"])
async def test_slow_consumer_is_closed_and_the_others_keep_receiving(
    protocol: dict[str, str], settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    small = settings.model_copy(update={"live_queue_size": 16})
    # Big messages, so the socket buffers fill up and the slow client's queue with them.
    filler = secrets.token_urlsafe(24_000)
    headers = {"Authorization": f"Bearer {keys.overlay}"}
    async with (
        served(small, **protocol) as server,
        feed(server.ws, token=keys.overlay) as steady,
        # A client that reads nothing: its library stops reading the socket at once.
        # No compression: what is sent fills the socket buffers as it would on a network.
        connect(server.ws, additional_headers=headers, max_queue=1, compression=None) as slow,
    ):
        await steady.wait_for("now_playing")
        bus, hub = server.runtime.bus, server.live.hub

        def too_slow() -> list[int]:
            return [c.closed.code for c in hub.connections(keys.account_id) if c.closed]

        sent = 0
        while not too_slow() and sent < 5000:
            status = Status(status=StatusKind.POLLING, message=filler)
            await bus.publish(keys.account_id, status.to_wire())
            sent += 1
            # The steady client keeps up: it has everything published so far.
            await steady.wait_for("status", sent)
        assert too_slow() == [4408], "the slow client was closed, only it"
        # Reading again, it finds what was on its way, then the close.
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(slow.recv(), LIVENESS)
        assert slow.close_code == 4408
        assert "too slow" in (slow.close_reason or "")
        # The others go on.
        await bus.publish(keys.account_id, Status(status=StatusKind.IDLE, message="ok").to_wire())
        await steady.wait_for("status", sent + 1)
        assert not steady.closed

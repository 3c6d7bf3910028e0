"""Song request changes on the live feed: a ``request`` message (event type, request,
actor) for clients holding ``requests:read``, over WebSocket and SSE, resumable like
events; never for overlay tokens or keys without that permission."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import gql
from gql.transport.exceptions import TransportQueryError

from tests.kit.storage import unique
from tests.realtime.conftest import connect as connect_spotify
from tests.realtime.conftest import new_account, realtime_settings
from tests.realtime.feed_support import feed, served, sse_lines
from tests.realtime.support import eventually
from tests.realtime.test_subscriptions import first, graphql_ws
from tests.requests.queue.support import songs
from tests.support import accounts
from tests.support.requests import forget_all_requests
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.kit.db import Database


@pytest.fixture
def settings(database_url: str, bus_url: str | None, tmp_path: Path, sim: Sim) -> Settings:
    """The package's settings in a Redis namespace of their own: the machine's Redis (and
    its count of failed sign-ins from loopback) is shared with other test runs."""
    return realtime_settings(database_url, bus_url, tmp_path, sim, redis_namespace=unique("rq"))


@pytest.fixture(autouse=True)
async def no_request_left(database: Database) -> AsyncIterator[None]:
    """A waiting request keeps its account polled: none outlives its test."""
    yield
    await forget_all_requests(database)


VIEWER = {"platform": "twitch", "id": "42", "login": "ana", "display_name": "Ana"}


async def test_request_messages_reach_request_readers_only(
    settings: Settings, database: Database, sim: Sim
) -> None:
    account_id = await new_account(database)
    await connect_spotify(database, sim, account_id)
    mod = await accounts.create_key(
        database, account_id, "mod bot", ["requests:read", "requests:submit", "requests:moderate"]
    )
    player = await accounts.create_key(database, account_id, "player", ["spotify:read"])
    overlay = await accounts.create_overlay_token(database, account_id, "obs")
    headers = {"Authorization": f"Bearer {mod.key}"}
    first, second = songs(sim, 2)
    async with (
        served(settings) as server,
        feed(server.ws, token=mod.key) as reader,
        feed(server.ws, token=player.key) as playback_only,
        feed(server.ws, auth_message={"type": "auth", "token": overlay.token}) as obs,
    ):
        (hello,) = await reader.wait_for("hello")
        assert hello["reads"] == ["request"]
        await obs.wait_for("now_playing")
        await playback_only.wait_for("now_playing")
        async with httpx.AsyncClient(base_url=server.base, headers=headers) as http:
            taken = await http.post("/v1/requests", json={"query": first, "viewer": VIEWER})
            assert taken.status_code == 201, taken.text
            request_id = taken.json()["id"]
            second_taken = await http.post(
                "/v1/requests", json={"query": second, "viewer": {**VIEWER, "id": "43"}}
            )
            assert second_taken.status_code == 201, second_taken.text
            promoted = await http.post(f"/v1/requests/{second_taken.json()['id']}/promote")
            assert promoted.status_code == 200, promoted.text
            closed = await http.post("/v1/requests/close", json={"message": "brb"})
            assert closed.status_code == 200, closed.text
        added, _, moved, settings_changed = await reader.wait_for("request", 4)
        assert added["event_type"] == "request:added"
        assert added["request"]["id"] == request_id
        assert added["request"]["viewer"]["display_name"] == "Ana"
        assert added["actor"]["label"] == "mod bot"
        assert added["event"]["id"]
        assert moved["event_type"] == "request:moved"
        assert moved["request"]["position"] == 1
        assert settings_changed["event_type"] == "request:settings"
        assert settings_changed["request"] is None
        assert settings_changed["event"]["params"]["open"] is False
        # A playback change published after: once the others have it, they would have had
        # the request messages.
        async with httpx.AsyncClient(
            base_url=server.base, headers={"Authorization": f"Bearer {player.key}"}
        ) as http:
            await http.get("/v1/spotify/state")
        assert obs.of_type("request") == []
        assert playback_only.of_type("request") == []
        assert {m["type"] for m in obs.messages} <= {"hello", "now_playing", "status"}


async def test_request_messages_over_sse_and_on_resume(
    settings: Settings, database: Database, sim: Sim
) -> None:
    account_id = await new_account(database)
    await connect_spotify(database, sim, account_id)
    key = await accounts.create_key(
        database, account_id, "bot", ["spotify:read", "requests:read", "requests:submit"]
    )
    headers = {"Authorization": f"Bearer {key.key}"}
    [link] = songs(sim, 1)
    async with served(settings) as server, httpx.AsyncClient(base_url=server.base) as http:
        opening = await sse_lines(http, server.http, headers, 2)
        assert opening[0]["data"]["reads"] == ["now_playing", "event", "status", "request", "play"]
        last = opening[-1]["id"]
        async with feed(server.ws, token=key.key) as watcher:
            taken = await http.post(
                "/v1/requests", headers=headers, json={"query": link, "viewer": VIEWER}
            )
            assert taken.status_code == 201, taken.text
            (live,) = await watcher.wait_for("request")
        resumed = await sse_lines(http, server.http, {**headers, "Last-Event-ID": str(last)}, 3)
        kinds: list[Any] = [e["data"]["type"] for e in resumed]
        assert kinds == ["hello", "request", "now_playing"]
        assert resumed[1]["data"]["request"]["id"] == taken.json()["id"]
        assert resumed[1]["id"] == live["id"]


REQUESTS_CHANGED = gql(
    "subscription { requestsChanged { id eventType actor { label } params"
    " request { id state position viewer { displayName } track { uri } } } }"
)


async def test_requests_changed_subscription(
    settings: Settings, database: Database, sim: Sim
) -> None:
    account_id = await new_account(database)
    await connect_spotify(database, sim, account_id)
    key = await accounts.create_key(
        database, account_id, "mod", ["requests:read", "requests:submit", "requests:moderate"]
    )
    overlay = await accounts.create_overlay_token(database, account_id, "obs")
    headers = {"Authorization": f"Bearer {key.key}"}
    [link] = songs(sim, 1)
    async with served(settings) as server, graphql_ws(server.base, key.key) as session:
        changes = session.subscribe(REQUESTS_CHANGED)
        pending = asyncio.ensure_future(first(changes))

        async def subscribed() -> bool:
            return len(server.live.hub.connections(account_id)) >= 1

        await eventually(subscribed, what="the requests subscription in the hub")
        async with httpx.AsyncClient(base_url=server.base, headers=headers) as http:
            answer = await http.post("/v1/requests", json={"query": link, "viewer": VIEWER})
            assert answer.status_code == 201, answer.text
            cleared = await http.delete("/v1/requests")
            assert cleared.status_code == 200
        added = (await pending)["requestsChanged"]
        assert added["eventType"] == "request:added"
        assert added["actor"]["label"] == "mod"
        assert added["request"]["viewer"]["displayName"] == "Ana"
        assert added["request"]["position"] == 1
        following = (await first(changes))["requestsChanged"]
        assert following["eventType"] == "request:cleared"
        assert following["request"] is None
        assert following["params"]["removed"] == [added["request"]["id"]]
    async with served(settings) as server, graphql_ws(server.base, overlay.token) as session:
        with pytest.raises(TransportQueryError) as refused:
            await first(session.subscribe(REQUESTS_CHANGED))
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "missing_permission"

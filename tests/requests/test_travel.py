"""A song request's whole journey through three doors, against the simulator over HTTP on
its clock: a viewer asks from chat as Nightbot calls it (pending: regular viewers' requests
wait for approval), a moderator bot approves it over GraphQL, the queue is read over REST;
TuneDeck hands it to Spotify only as the playing track ends, it plays with its requester
named (``!song``), ends as played, and the streamer's playlist goes on after it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.chat.conftest import nightbot_headers
from tests.realtime.conftest import FAST
from tests.realtime.support import eventually
from tests.requests.feeder_support import (
    bus_url,
    catalog_track,
    connected_account,
    database,
    database_url,
    nothing_in_play,
    queue_adds,
    seen_near,
    sim,
    sim_server,
    time_left_s,
    wait_state,
)
from tests.requests.test_feeder import in_spotify_queue
from tests.support import accounts
from tests.support.app import app_settings, asgi_client
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.chat import tokens
from tunedeck.kit.db import Database
from tunedeck.requests.settings import RequestSettings
from tunedeck.runtime import app_runtime

__all__ = ["bus_url", "database", "database_url", "nothing_in_play", "sim", "sim_server"]

APPROVE = "mutation($id: ID!) { approveRequest(id: $id) { state } }"


@pytest.fixture
async def served_app(
    database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    """The whole app, serving and polling, on a fast cadence."""
    settings = app_settings(database_url, tmp_path, sim=sim, redis_url=bus_url, **FAST)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_a_request_from_chat_approved_plays_just_in_time_then_the_playlist_goes_on(
    database: Database, sim: Sim, served_app: FastAPI
) -> None:
    account = await connected_account(database, sim)
    ctx = await accounts.acting_for(database, account)
    chat_token = await tokens.create_chat_token(
        ctx, "nightbot", trust_roles=True, public_url="http://127.0.0.1:8000"
    )
    moderator = await accounts.create_key(
        database, account, "mod bot", ["requests:read", "requests:moderate"]
    )
    headers = {"Authorization": f"Bearer {moderator.key}"}
    before = sim.playback()
    playing, upcoming = str(before["track_uri"]), list(before["upcoming"])
    track = catalog_track(sim, avoid={playing, *upcoming})
    link = f"https://open.spotify.com/intl-de/track/{track.uri.rsplit(':', 1)[1]}?si=abc"

    async with asgi_client(served_app, timeout=30) as client:

        async def chat(command: str, q: str | None = None) -> str:
            params = {"token": chat_token.token, **({"q": q} if q is not None else {})}
            answer = await client.get(
                f"/v1/chat/{command}", params=params, headers=nightbot_headers("zoe")
            )
            assert answer.status_code == 200
            return answer.text

        # Regular viewers' requests wait for a moderator.
        rules = RequestSettings().model_dump(mode="json")
        rules["roles"]["regular"]["approval_required"] = True
        put = await client.put("/v1/requests/settings", headers=headers, json=rules)
        assert put.status_code == 200, put.text

        asked = await chat("sr", link)
        if "looking it up" not in asked:  # a loaded machine may take longer than the budget
            assert "waiting for a moderator's approval" in asked, asked

        async def told_pending() -> bool:
            return "waiting for a moderator's approval" in await chat("pos")

        await eventually(told_pending, what="!pos telling the request awaits approval")
        queue = (await client.get("/v1/requests", headers=headers)).json()
        (waiting,) = queue["items"]
        assert (waiting["state"], waiting["track"]["uri"]) == ("pending", track.uri)

        approved = await client.post(
            "/graphql", headers=headers, json={"query": APPROVE, "variables": {"id": waiting["id"]}}
        )
        assert approved.json()["data"]["approveRequest"]["state"] == "QUEUED", approved.text
        request_id = uuid.UUID(waiting["id"])
        # Not yet Spotify's: the playing track has a while to go.
        assert queue_adds(sim) == []

        # As the playing track ends, the request is handed over, then plays.
        sim.advance(time_left_s(sim) - 3)
        await wait_state(database, request_id, "sent")
        await in_spotify_queue(sim, track.uri)
        sim.advance(4)
        await wait_state(database, request_id, "playing")
        assert "requested by Zoe" in await chat("song")

        # It plays to its end; the streamer's playlist goes on where it was.
        sim.advance(time_left_s(sim) - 2)
        await seen_near(app_runtime(served_app), account, track.uri, left_ms=3000)
        sim.advance(3)
        await wait_state(database, request_id, "played")
        assert sim.playback()["track_uri"] == upcoming[0]
        assert queue_adds(sim) == [track.uri]
        history = await client.get(
            "/v1/requests/history", headers=headers, params={"state": "played"}
        )
        assert [item["id"] for item in history.json()["items"]] == [str(request_id)]

"""GraphQL subscriptions over graphql-transport-ws, driven by a third-party client (gql's
WebsocketsTransport), against a real uvicorn, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.realtime.feed_support import served
from tests.realtime.support import LIVENESS, eventually
from tests.realtime.test_feed import streamer
from tests.support import accounts
from tests.support.simulator import Sim
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.realtime.messages import NowPlaying

NOW_PLAYING = gql(
    "subscription { spotifyNowPlaying { id serverTime nowPlaying { isPlaying track { name } } } }"
)
EVENTS = gql("subscription { spotifyEvents { id event { type actor { label } } } }")


@asynccontextmanager
async def graphql_ws(base: str, token: str) -> AsyncIterator[AsyncClientSession]:
    url = base.replace("http://", "ws://") + "/graphql"
    transport = WebsocketsTransport(
        url=url,
        init_payload={"token": token},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        connect_timeout=LIVENESS,
        close_timeout=2,
    )
    async with Client(transport=transport) as session:
        yield session


async def drain(results: AsyncIterator[dict[str, Any]]) -> None:
    while True:
        await first(results)


async def first(results: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(anext(results), LIVENESS)


async def test_now_playing_and_events_for_a_key(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server, graphql_ws(server.base, keys.key) as session:
        playing = session.subscribe(NOW_PLAYING)
        snapshot = (await first(playing))["spotifyNowPlaying"]
        assert snapshot["nowPlaying"]["track"]["name"]
        assert snapshot["serverTime"] > 0

        events = session.subscribe(EVENTS)
        # Subscribed once the hub has it: then the skip is certain to come through.
        pending = asyncio.ensure_future(first(events))

        async def subscribed() -> bool:
            return len(server.live.hub.connections(keys.account_id)) >= 2

        await eventually(subscribed, what="the events subscription in the hub")
        async with httpx.AsyncClient(base_url=server.base, headers=keys.headers) as http:
            answer = await http.post("/v1/spotify/playback", json={"action": "next"})
            assert answer.status_code == 200, answer.text
        event = (await pending)["spotifyEvents"]
        assert event["event"]["type"] == "spotify:skip"
        assert event["event"]["actor"]["label"] == "feed"

        published = await server.runtime.bus.publish(
            keys.account_id, NowPlaying(now_playing=None).to_wire()
        )

        async def reaches() -> None:
            while True:
                update = (await first(playing))["spotifyNowPlaying"]
                if update["id"] == str(published):
                    assert update["nowPlaying"] is None
                    return

        await asyncio.wait_for(reaches(), LIVENESS)


async def test_overlay_token_reads_now_playing_not_events(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server, graphql_ws(server.base, keys.overlay) as session:
        snapshot = await first(session.subscribe(NOW_PLAYING))
        assert "spotifyNowPlaying" in snapshot
        with pytest.raises(TransportQueryError) as refused:
            await first(session.subscribe(EVENTS))
        assert refused.value.errors is not None
        assert "overlay tokens can only read now playing" in refused.value.errors[0]["message"], (
            refused.value.errors
        )


async def test_bad_token_is_refused_and_revocation_closes(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server:
        with pytest.raises(TransportError):
            async with graphql_ws(server.base, "tdo_not-a-token") as session:
                await first(session.subscribe(NOW_PLAYING))

        async with graphql_ws(server.base, keys.overlay) as session:
            playing = session.subscribe(NOW_PLAYING)
            await first(playing)
            await accounts.revoke_overlay_token(database, keys.overlay_id)
            with pytest.raises(TransportError):
                await drain(playing)


async def test_a_subscription_sent_over_http_is_refused(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """A subscription streams over WebSocket; posted, it is a mistake (400), never a 500."""
    keys = await streamer(database, sim)
    # (A generous timeout: a loaded 2-core machine may take seconds to answer.)
    async with (
        served(settings) as server,
        httpx.AsyncClient(base_url=server.base, timeout=30) as http,
    ):
        for accept in ("application/json", "multipart/mixed", "text/event-stream"):
            answer = await http.post(
                "/graphql",
                json={"query": "subscription { spotifyNowPlaying { id } }"},
                headers={**keys.headers, "Accept": accept},
            )
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"] == {
                "code": "graphql_invalid",
                "message": "subscriptions are not allowed when using POST",
            }

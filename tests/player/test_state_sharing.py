"""The combined state is fetched in parallel, and concurrent reads of one account share
one upstream fetch (four Spotify calls), whichever door they come through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.player.conftest import MakeStreamer, Streamer
from tests.player.doors import doors
from tests.support.simulator import Sim


@pytest.fixture
async def client(make_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The app without rate limits: this module sends one key's calls in a flood on
    purpose (the limits themselves are tested in test_limits.py)."""
    async with make_app(rate_limits=False) as client:
        yield client


STATE_ROUTES = (
    "GET /v1/me/player",
    "GET /v1/me/player/queue",
    "GET /v1/me/player/devices",
    "GET /v1/me/playlists",
)


async def test_fifty_concurrent_reads_cost_four_calls(
    make_app: Callable[..., Any], streamer: Streamer, sim: Sim
) -> None:
    sim.knobs(latency_ms=100)
    # A sharing window no loaded machine outlasts: the fifty reads are "concurrent" by
    # what the cache sees, whatever the time a busy CI takes to send them all.
    async with make_app(rate_limits=False, player_state_cache_seconds=600) as client:
        door = doors(client, streamer.headers)
        answers = await asyncio.gather(
            *(door["rest" if i % 2 else "graphql"].call("state") for i in range(50))
        )
    assert all(a.ok for a in answers), {a.code for a in answers}
    tracks = {a.data["now_playing"]["track"]["uri"] for a in answers}
    assert tracks == {sim.playback()["track_uri"]}
    requests = sim.stats()["requests"]
    assert {route: requests.get(route) for route in STATE_ROUTES} == dict.fromkeys(STATE_ROUTES, 1)
    assert sim.stats()["total"] == 4


async def test_parts_are_fetched_in_parallel(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    door = doors(client, streamer.headers)["rest"]
    # The simulator holds each call until four are in flight at once: calls made one
    # after the other never meet (each waits out the hold alone), parallel ones do.
    sim.knobs(hold_until_concurrent=4)
    answer = await door.call("state")
    stats = sim.stats()
    assert stats["max_in_flight"] == 4
    assert answer.ok, answer.code
    assert {route: stats["requests"].get(route) for route in STATE_ROUTES} == dict.fromkeys(
        STATE_ROUTES, 1
    )


async def test_accounts_do_not_share_state(
    client: httpx.AsyncClient, make_streamer: MakeStreamer, sim: Sim
) -> None:
    demo = await make_streamer("demo")
    free = await make_streamer("free")
    demo_state, free_state = await asyncio.gather(
        doors(client, demo.headers)["rest"].call("state"),
        doors(client, free.headers)["graphql"].call("state"),
    )
    assert demo_state.data["now_playing"]["is_playing"] is True
    assert free_state.data["now_playing"]["is_playing"] is False
    assert demo_state.data["now_playing"]["track"]["uri"] == sim.playback("demo")["track_uri"]
    assert free_state.data["now_playing"]["track"]["uri"] == sim.playback("free")["track_uri"]
    assert sim.stats()["total"] == 8


async def test_state_is_fetched_again_after_the_window(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    door = doors(client, streamer.headers)["graphql"]
    assert (await door.call("state")).ok
    assert sim.stats()["total"] == 4
    await asyncio.sleep(1.1)  # the default sharing window is 1 s
    sim.app_action(action="next").raise_for_status()
    after = await door.call("state")
    assert after.data["now_playing"]["track"]["uri"] == sim.playback()["track_uri"]
    assert sim.stats()["total"] == 8

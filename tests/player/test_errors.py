"""Spotify's refusals and failures become clear answers through both doors, never a 500:
no active device, premium required, rate limits, outages, slowness, lost authorization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.player.conftest import MakeStreamer, Streamer
from tests.player.doors import Door, doors
from tests.player.support import events_of
from tests.support.simulator import Sim


@pytest.fixture(params=["rest", "graphql"])
def door_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def door(door_name: str, client: httpx.AsyncClient, streamer: Streamer) -> Door:
    return doors(client, streamer.headers)[door_name]


async def no_events(client: httpx.AsyncClient, streamer: Streamer) -> None:
    assert await events_of(client, streamer.headers, count=1, wait=0.3) == []


async def test_no_active_device(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    sim.app_action(action="disconnect").raise_for_status()
    answer = await door.call("playback", action="pause")
    assert (answer.status, answer.code) == (409, "no_active_device")
    assert "NO_ACTIVE_DEVICE" in answer.message
    assert "device" in answer.message.split(":", 1)[1]  # the hint: pick a device
    await no_events(client, streamer)


async def test_premium_required(
    door_name: str, client: httpx.AsyncClient, make_streamer: MakeStreamer, sim: Sim
) -> None:
    free = await make_streamer("free")
    door = doors(client, free.headers)[door_name]
    answer = await door.call("playback", action="next")
    assert (answer.status, answer.code) == (403, "premium_required")
    assert "PREMIUM_REQUIRED" in answer.message
    # Reading still works for a free user.
    assert (await door.call("devices")).ok
    await no_events(client, free)


async def test_rate_limited_with_retry_after(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    sim.knobs(rate_limit_per_30s=1, rate_limit_retry_after=120)
    answer = await door.call("playback", action="pause")
    assert (answer.status, answer.code) == (429, "rate_limited")
    assert "120" in answer.message
    if door.name == "rest":
        assert answer.headers["retry-after"] == "120"
    assert sim.playback()["is_playing"] is True
    await no_events(client, streamer)


async def test_rate_limit_fails_some_parts_of_the_state(
    door: Door, streamer: Streamer, sim: Sim
) -> None:
    sim.knobs(rate_limit_per_30s=2, rate_limit_retry_after=120)
    answer = await door.call("state")
    assert answer.ok, answer.message
    state = answer.data
    failed = [name for name, error in state["errors"].items() if error is not None]
    assert len(failed) == 2
    for name in failed:
        assert state[name] is None
        assert state["errors"][name]["code"] == "rate_limited"
    served = {"now_playing", "queue", "devices", "playlists"} - set(failed)
    assert all(state[name] is not None for name in served)


async def test_spotify_down(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    sim.knobs(error_rate=1.0)
    answer = await door.call("playback", action="pause")
    assert (answer.status, answer.code) == (503, "spotify_unavailable")
    state = await door.call("state")
    assert state.ok
    assert {e["code"] for e in state.data["errors"].values()} == {"spotify_unavailable"}
    await no_events(client, streamer)


async def test_spotify_too_slow(
    door_name: str, make_app: Callable[..., Any], streamer: Streamer, sim: Sim
) -> None:
    sim.knobs(latency_ms=1500)
    async with make_app(spotify_deadline=0.4) as client:
        door = doors(client, streamer.headers)[door_name]
        answer = await door.call("search", query="love")
        assert (answer.status, answer.code) == (504, "spotify_timeout")
        answer = await door.call("playback", action="volume", volume_percent=10)
        assert (answer.status, answer.code) == (504, "spotify_timeout")


async def test_authorization_lost(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    sim.http.post("/_sim/tokens/revoke", json={"user": "demo"}).raise_for_status()
    sim.http.post("/_sim/tokens/expire", json={"user": "demo"}).raise_for_status()
    answer = await door.call("playback", action="pause")
    assert (answer.status, answer.code) == (409, "spotify_needs_reauth")
    assert "connect" in answer.message.lower()
    # Stays so (no refresh loop): the connection is marked.
    tokens_before = sim.stats()["token_requests"]["refresh_token"]
    again = await door.call("state")
    assert (again.status, again.code) == (409, "spotify_needs_reauth")
    assert sim.stats()["token_requests"]["refresh_token"] == tokens_before
    await no_events(client, streamer)


async def test_expired_token_is_refreshed_within_the_request(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    # Spotify refuses the stored token (401): the token manager refreshes it, in its own
    # transaction, while this request (a fresh key: it also stamps its use) is running.
    sim.http.post("/_sim/tokens/expire", json={"user": "demo"}).raise_for_status()
    answer = await door.call("playback", action="pause")
    assert answer.ok, (answer.status, answer.code, answer.message)
    assert sim.stats()["token_requests"]["refresh_token"] == 1
    assert sim.playback()["is_playing"] is False


async def test_not_connected(
    door_name: str, client: httpx.AsyncClient, make_streamer: MakeStreamer, sim: Sim
) -> None:
    lonely = await make_streamer(connected=False)
    door = doors(client, lonely.headers)[door_name]
    for op, args in [("state", {}), ("playback", {"action": "pause"}), ("start_manual", {})]:
        answer = await door.call(op, **args)
        assert (answer.status, answer.code) == (409, "spotify_not_connected"), op
    assert sim.stats()["total"] == 0


async def test_spotify_refusals_keep_their_meaning(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    sim.app_action(action="pause").raise_for_status()
    answer = await door.call("playback", action="pause")  # already paused
    assert (answer.status, answer.code) == (409, "player_refused")
    assert "ALREADY_PAUSED" in answer.message
    answer = await door.call("transfer", device_id="0" * 40)  # no such device
    assert (answer.status, answer.code) == (404, "spotify_not_found")
    await no_events(client, streamer)

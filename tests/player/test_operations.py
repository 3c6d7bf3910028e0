"""Every player operation end to end, through REST and through GraphQL, on both backends:
the answer, the effect on the simulator's player, and the one recorded event."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.player.conftest import Streamer
from tests.player.doors import Door, GraphQLDoor, doors
from tests.player.support import catalog_tracks, events_of, upstream_requests
from tests.support.simulator import Sim
from tunedeck.simulator.defaults import (
    DEMO_CHILL_PLAYLIST_ID,
    DEMO_DESKTOP_ID,
    DEMO_HYPE_PLAYLIST_ID,
    DEMO_PHONE_ID,
    DEMO_STREAM_PLAYLIST_ID,
)

CHILL_URI = f"spotify:playlist:{DEMO_CHILL_PLAYLIST_ID}"


@pytest.fixture(params=["rest", "graphql"])
def door(request: pytest.FixtureRequest, client: httpx.AsyncClient, streamer: Streamer) -> Door:
    return doors(client, streamer.headers)[request.param]


async def only_event(client: httpx.AsyncClient, streamer: Streamer) -> dict[str, Any]:
    """The one event the account has; fails if there are none or several."""
    events = await events_of(client, streamer.headers, count=1)
    # Give a stray second event the chance to show up before asserting there is none.
    assert len(await events_of(client, streamer.headers, count=2, wait=0.3)) == 1
    assert len(events) == 1
    return events[0]


def check_event(
    event: dict[str, Any],
    streamer: Streamer,
    event_type: str,
    params: dict[str, Any],
    track_uri: str | None,
) -> None:
    assert event["type"] == event_type
    assert event["params"] == params
    assert event["actor"] == {
        "key_id": streamer.caller.key_id,
        "label": "test key",
        "kind": "api_key",
    }
    assert (event["track"] or {}).get("uri") == track_uri
    if track_uri is not None:
        assert event["track"]["name"]
        assert event["track"]["artists"]
        assert event["track"]["duration_ms"] > 0


async def act(
    door: Door,
    client: httpx.AsyncClient,
    streamer: Streamer,
    op: str,
    event_type: str,
    params: dict[str, Any],
    track_uri: str | None,
    **args: Any,
) -> dict[str, Any]:
    """Run one action through ``door``; check its answer and the stored event."""
    answer = await door.call(op, **args)
    assert answer.ok, (answer.status, answer.code, answer.message)
    returned = answer.data["event"]
    check_event(returned, streamer, event_type, params, track_uri)
    stored = await only_event(client, streamer)
    assert stored["id"] == returned["id"]
    check_event(stored, streamer, event_type, params, track_uri)
    return dict(answer.data)


async def test_pause(door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim) -> None:
    before = sim.playback()
    assert before["is_playing"]
    result = await act(
        door, client, streamer, "playback", "spotify:pause", {}, before["track_uri"], action="pause"
    )
    assert result["action"] == "pause"
    assert sim.playback()["is_playing"] is False


async def test_play_resumes(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    sim.app_action(action="pause").raise_for_status()
    track = sim.playback()["track_uri"]
    await act(door, client, streamer, "playback", "spotify:play", {}, track, action="play")
    after = sim.playback()
    assert after["is_playing"] is True
    assert after["track_uri"] == track


async def test_play_track(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    before = sim.playback()["track_uri"]
    (uri,) = catalog_tracks(sim, 1)
    await act(
        door, client, streamer, "playback", "spotify:play", {"uri": uri}, before,
        action="play", uri=uri,
    )  # fmt: skip
    assert sim.playback()["track_uri"] == uri


async def test_play_context_from_a_track(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    before = sim.playback()["track_uri"]
    (chill,) = [p for p in sim.playlists() if p["id"] == DEMO_CHILL_PLAYLIST_ID]
    start = chill["track_uris"][3]
    await act(
        door, client, streamer, "playback", "spotify:play",
        {"uri": start, "context_uri": CHILL_URI}, before,
        action="play", uri=start, context_uri=CHILL_URI,
    )  # fmt: skip
    after = sim.playback()
    assert (after["context_uri"], after["track_uri"]) == (CHILL_URI, start)
    assert after["upcoming"][:3] == chill["track_uris"][4:7]


async def test_next(door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim) -> None:
    before = sim.playback()
    await act(
        door, client, streamer, "playback", "spotify:skip", {}, before["track_uri"], action="next"
    )
    assert sim.playback()["track_uri"] == before["upcoming"][0]


async def test_previous_restarts_the_track(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    before = sim.playback()
    assert before["progress_ms"] >= 42_000
    await act(
        door, client, streamer, "playback", "spotify:previous", {}, before["track_uri"],
        action="previous",
    )  # fmt: skip
    after = sim.playback()
    assert after["track_uri"] == before["track_uri"]
    assert after["progress_ms"] < 3000


async def test_skip_to_keeps_the_rest_of_the_queue(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    queued = catalog_tracks(sim, 2)
    for uri in queued:
        sim.app_action(action="queue", uri=uri).raise_for_status()
    before = sim.playback()
    assert before["upcoming"][:2] == queued
    target = before["upcoming"][3]  # past both queued tracks, into the playlist
    sim.http.post("/_sim/stats/reset").raise_for_status()
    await act(
        door, client, streamer, "playback", "spotify:skip", {"to_uri": target, "skipped": 4},
        before["track_uri"], action="skip_to", uri=target,
    )  # fmt: skip
    after = sim.playback()
    assert after["track_uri"] == target
    assert after["context_uri"] == before["context_uri"]
    # Everything after the target is still coming, in the same order.
    assert after["upcoming"][:10] == before["upcoming"][4:14]
    assert sim.stats()["requests"]["POST /v1/me/player/next"] == 4


async def test_skip_to_a_track_not_in_the_queue(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    (absent,) = catalog_tracks(sim, 1, skip=5)
    before = sim.playback()["track_uri"]
    answer = await door.call("playback", action="skip_to", uri=absent)
    assert (answer.status, answer.code) == (409, "not_in_queue")
    assert "POST /v1/me/player/next" not in sim.stats()["requests"]
    assert sim.playback()["track_uri"] == before
    assert await events_of(client, streamer.headers, count=1, wait=0.3) == []


async def test_seek(door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim) -> None:
    track = sim.playback()["track_uri"]
    await act(
        door, client, streamer, "playback", "spotify:seek", {"position_ms": 10_000}, track,
        action="seek", position_ms=10_000,
    )  # fmt: skip
    assert 10_000 <= sim.playback()["progress_ms"] < 13_000


async def test_volume_records_old_and_new(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    before = sim.playback()
    assert before["volume_percent"] == 65
    await act(
        door, client, streamer, "playback", "spotify:volume",
        {"old_volume": 65, "new_volume": 30}, before["track_uri"],
        action="volume", volume_percent=30,
    )  # fmt: skip
    assert sim.playback()["volume_percent"] == 30


async def test_shuffle(door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim) -> None:
    track = sim.playback()["track_uri"]
    await act(
        door, client, streamer, "playback", "spotify:shuffle", {"state": True}, track,
        action="shuffle", state=True,
    )  # fmt: skip
    assert sim.playback()["shuffle"] is True


async def test_repeat(door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim) -> None:
    track = sim.playback()["track_uri"]
    await act(
        door, client, streamer, "playback", "spotify:repeat", {"mode": "track"}, track,
        action="repeat", mode="track",
    )  # fmt: skip
    assert sim.playback()["repeat"] == "track"


async def test_queue_add(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    track = sim.playback()["track_uri"]
    (uri,) = catalog_tracks(sim, 1)
    await act(
        door, client, streamer, "queue_add", "spotify:queue_add", {"uri": uri}, track, uri=uri
    )
    assert sim.playback()["queue"] == [uri]


async def test_transfer_names_the_device_it_knows(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    state = await door.call("state")  # fresh state: the device's name comes from it
    assert state.ok
    track = sim.playback()["track_uri"]
    await act(
        door, client, streamer, "transfer", "spotify:device",
        {"device_id": DEMO_PHONE_ID, "device_name": "Demo Phone", "play": False}, track,
        device_id=DEMO_PHONE_ID,
    )  # fmt: skip
    assert sim.playback()["device_id"] == DEMO_PHONE_ID


async def test_play_playlist(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    track = sim.playback()["track_uri"]
    described = {
        "uri": CHILL_URI,
        "name": "Chill Coding",
        "cover_url": "https://img.example/chill.jpg",
        "track_count": 25,
        "playlist_url": f"https://open.spotify.com/playlist/{DEMO_CHILL_PLAYLIST_ID}",
    }
    await act(
        door, client, streamer, "play_playlist", "spotify:playlist", described, track, **described
    )
    assert sim.playback()["context_uri"] == CHILL_URI


async def test_state_reads_four_parts_at_once(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    snapshot = sim.playback()
    answer = await door.call("state")
    assert answer.ok, answer.message
    state = answer.data
    assert state["errors"] == {
        "now_playing": None,
        "queue": None,
        "devices": None,
        "playlists": None,
    }
    now = state["now_playing"]
    assert now["is_playing"] is True
    assert now["track"]["uri"] == snapshot["track_uri"]
    assert now["device"]["id"] == DEMO_DESKTOP_ID
    assert now["volume_percent"] == 65
    assert now["context_uri"] == f"spotify:playlist:{DEMO_STREAM_PLAYLIST_ID}"
    assert state["queue"]["currently_playing"]["uri"] == snapshot["track_uri"]
    queued = [item["uri"] for item in state["queue"]["items"]]
    assert queued == snapshot["upcoming"][: len(queued)]
    assert queued
    assert {d["id"] for d in state["devices"]} == {d["id"] for d in snapshot["devices"]}
    ids = {p["id"] for p in state["playlists"]}
    assert {DEMO_STREAM_PLAYLIST_ID, DEMO_CHILL_PLAYLIST_ID, DEMO_HYPE_PLAYLIST_ID} <= ids
    requests = sim.stats()["requests"]
    for route in ("/me/player", "/me/player/queue", "/me/player/devices", "/me/playlists"):
        assert requests[f"GET /v1{route}"] == 1
    # Within the sharing window the same state costs Spotify nothing.
    total = upstream_requests(sim)
    again = await door.call("state")
    assert again.data["now_playing"]["track"]["uri"] == snapshot["track_uri"]
    assert upstream_requests(sim) == total
    assert await events_of(client, streamer.headers, count=1, wait=0.3) == []


async def test_an_action_makes_the_next_state_read_fresh(
    door: Door, streamer: Streamer, sim: Sim
) -> None:
    assert (await door.call("state")).data["now_playing"]["is_playing"] is True
    assert (await door.call("playback", action="pause")).ok
    assert (await door.call("state")).data["now_playing"]["is_playing"] is False


async def test_queue_devices_playlists_search(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    snapshot = sim.playback()
    queue = (await door.call("queue")).data
    assert [t["uri"] for t in queue["items"]][:5] == snapshot["upcoming"][:5]
    devices = (await door.call("devices")).data
    assert sorted(d["name"] for d in devices) == sorted(d["name"] for d in snapshot["devices"])
    active = [d for d in devices if d["is_active"]]
    assert [d["id"] for d in active] == [DEMO_DESKTOP_ID]
    playlists = (await door.call("playlists")).data
    stream = next(p for p in playlists if p["id"] == DEMO_STREAM_PLAYLIST_ID)
    assert (stream["name"], stream["track_count"]) == ("Stream Vibes", 30)
    name = sim.state.catalog.track_by_uri(snapshot["track_uri"]).name  # type: ignore[union-attr]
    found = (await door.call("search", query=name, limit=5)).data
    assert 1 <= len(found) <= 5
    assert snapshot["track_uri"] in {t["uri"] for t in found}
    assert await events_of(client, streamer.headers, count=1, wait=0.3) == []


async def test_playlist_management_records_no_event(
    door: Door, client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    created = await door.call("create_playlist", name="Raid Train", public=False)
    assert created.ok, created.message
    playlist_id = created.data["id"]
    assert created.data["name"] == "Raid Train"
    assert created.data["uri"] == f"spotify:playlist:{playlist_id}"

    def stored() -> dict[str, Any]:
        return next(p for p in sim.playlists() if p["id"] == playlist_id)

    assert (stored()["name"], stored()["public"]) == ("Raid Train", False)
    assert (await door.call("rename_playlist", playlist_id=playlist_id, name="Raid Bus")).ok
    assert stored()["name"] == "Raid Bus"

    uris = catalog_tracks(sim, 3)
    assert (await door.call("add_tracks", playlist_id=playlist_id, uris=uris)).ok
    assert stored()["track_uris"] == uris
    listed = await door.call("playlist_tracks", playlist_id=playlist_id)
    assert [entry["track"]["uri"] for entry in listed.data["items"]] == uris

    assert (await door.call("remove_track", playlist_id=playlist_id, uri=uris[1])).ok
    assert stored()["track_uris"] == [uris[0], uris[2]]

    assert (await door.call("delete_playlist", playlist_id=playlist_id)).ok
    assert stored()["in_library"] is False
    assert await events_of(client, streamer.headers, count=1, wait=0.3) == []


async def test_manual_connect_window(
    door: Door, client: httpx.AsyncClient, streamer: Streamer
) -> None:
    assert (await door.call("manual_status")).data["active"] is False
    started = (await door.call("start_manual")).data
    assert started["active"] is True
    assert 1790 <= started["remaining_seconds"] <= 1800
    status = (await door.call("manual_status")).data
    assert status["active"] is True
    assert status["remaining_seconds"] <= 1800
    assert (await door.call("stop_manual")).data is True
    assert (await door.call("manual_status")).data == {
        "active": False,
        "remaining_seconds": 0,
        "expires_at": None,
    }
    assert (await door.call("stop_manual")).data is False
    assert await events_of(client, streamer.headers, count=1, wait=0.3) == []


async def test_graphql_events_filter_and_page(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    rest, graphql = doors(client, streamer.headers).values()
    assert (await rest.call("playback", action="pause")).ok
    assert (await rest.call("playback", action="play")).ok
    stored = await events_of(client, streamer.headers, count=2)
    query = (
        "query Q($types: [String!], $after: String, $limit: Int!) {"
        " spotifyEvents(types: $types, after: $after, limit: $limit) {"
        " items { id type actor { keyId } params track { uri } } nextCursor } }"
    )
    assert isinstance(graphql, GraphQLDoor)
    pauses = await graphql.execute(query, {"types": ["spotify:pause"], "limit": 10})
    items = pauses["data"]["spotifyEvents"]["items"]
    assert [(e["type"], e["id"]) for e in items] == [("spotify:pause", stored[1]["id"])]
    assert items[0]["actor"]["keyId"] == streamer.caller.key_id
    first = (await graphql.execute(query, {"limit": 1}))["data"]["spotifyEvents"]
    assert [e["id"] for e in first["items"]] == [stored[0]["id"]]
    second = await graphql.execute(query, {"limit": 1, "after": first["nextCursor"]})
    assert [e["id"] for e in second["data"]["spotifyEvents"]["items"]] == [stored[1]["id"]]
    bad = await graphql.execute(query, {"types": ["spotify:dance"], "limit": 1})
    assert bad["errors"][0]["extensions"]["code"] == "unknown_event_type"


async def test_events_filter_by_actor_in_both_doors(
    client: httpx.AsyncClient, streamer: Streamer, sim: Sim
) -> None:
    """Only what one key did, paged on the server (not filtered out of a page)."""
    other = await client.post(
        "/v1/keys",
        headers=streamer.headers,
        json={"label": "mod bot", "permissions": ["spotify:read", "spotify:playback"]},
    )
    assert other.status_code == 201, other.text
    bot = {"Authorization": f"Bearer {other.json()['key']}"}
    bot_id = other.json()["id"]
    streamer_rest = doors(client, streamer.headers)["rest"]
    bot_doors = doors(client, bot)
    assert (await streamer_rest.call("playback", action="pause")).ok
    assert (await bot_doors["rest"].call("playback", action="play")).ok
    assert (await streamer_rest.call("playback", action="pause")).ok
    await events_of(client, streamer.headers, count=3)
    by_bot = await client.get(
        "/v1/spotify/events", params={"actor": bot_id, "limit": 1}, headers=streamer.headers
    )
    assert by_bot.status_code == 200, by_bot.text
    page = by_bot.json()
    assert [(e["type"], e["actor"]["key_id"]) for e in page["items"]] == [("spotify:play", bot_id)]
    assert page["next_cursor"] is None  # the streamer's two pauses are not this actor's
    mine = await client.get(
        "/v1/spotify/events",
        params={"actor": streamer.caller.key_id},
        headers=streamer.headers,
    )
    assert [e["type"] for e in mine.json()["items"]] == ["spotify:pause", "spotify:pause"]
    bot_graphql = bot_doors["graphql"]
    assert isinstance(bot_graphql, GraphQLDoor)
    answer = await bot_graphql.execute(
        "query Q($actor: String) { spotifyEvents(actor: $actor) { items { type } } }",
        {"actor": streamer.caller.key_id},
    )
    assert [e["type"] for e in answer["data"]["spotifyEvents"]["items"]] == [
        "spotify:pause",
        "spotify:pause",
    ]

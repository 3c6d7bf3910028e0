"""Player endpoints over HTTP: state, devices, every command and its error reasons."""

from __future__ import annotations

import httpx
import pytest

from tests.support.simulator import Sim
from tunedeck.simulator.defaults import (
    DEMO_CHILL_PLAYLIST_ID,
    DEMO_DESKTOP_ID,
    DEMO_PHONE_ID,
    DEMO_SPEAKER_ID,
    DEMO_STREAM_PLAYLIST_ID,
    FREE_LAPTOP_ID,
)

#: Player commands with valid parameters: (method, path, query).
COMMANDS = [
    ("PUT", "/me/player/play", {}),
    ("PUT", "/me/player/pause", {}),
    ("POST", "/me/player/next", {}),
    ("POST", "/me/player/previous", {}),
    ("PUT", "/me/player/seek", {"position_ms": "1000"}),
    ("PUT", "/me/player/volume", {"volume_percent": "50"}),
    ("PUT", "/me/player/shuffle", {"state": "true"}),
    ("PUT", "/me/player/repeat", {"state": "off"}),
]


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


def test_demo_user_is_playing_at_start(demo: httpx.Client) -> None:
    response = demo.get("/me/player")
    assert response.status_code == 200
    body = response.json()
    assert body["is_playing"] is True
    assert body["device"]["id"] == DEMO_DESKTOP_ID
    assert body["device"]["is_active"] is True
    assert body["context"]["uri"] == f"spotify:playlist:{DEMO_STREAM_PLAYLIST_ID}"
    assert body["item"]["type"] == "track"
    assert body["currently_playing_type"] == "track"
    assert 42_000 <= body["progress_ms"] < body["item"]["duration_ms"]
    assert body["actions"]["disallows"]["resuming"] is True


def test_currently_playing(demo: httpx.Client) -> None:
    body = demo.get("/me/player/currently-playing").json()
    assert body["is_playing"] is True
    assert body["item"]["uri"].startswith("spotify:track:")
    assert "device" not in body


def test_devices_list_one_active_and_one_restricted(demo: httpx.Client) -> None:
    devices = demo.get("/me/player/devices").json()["devices"]
    by_id = {device["id"]: device for device in devices}
    assert set(by_id) == {DEMO_DESKTOP_ID, DEMO_PHONE_ID, DEMO_SPEAKER_ID}
    assert [d["id"] for d in devices if d["is_active"]] == [DEMO_DESKTOP_ID]
    assert by_id[DEMO_SPEAKER_ID]["is_restricted"] is True
    assert by_id[DEMO_DESKTOP_ID]["volume_percent"] == 65


def test_pause_then_resume(sim: Sim, demo: httpx.Client) -> None:
    assert demo.put("/me/player/pause").status_code == 204
    assert sim.playback()["is_playing"] is False
    again = demo.put("/me/player/pause")
    assert again.status_code == 403
    assert error_of(again)["reason"] == "ALREADY_PAUSED"
    paused_at = sim.playback()["progress_ms"]
    sim.advance(30)
    assert sim.playback()["progress_ms"] == paused_at
    assert demo.put("/me/player/play").status_code == 204
    sim.advance(5)
    assert sim.playback()["progress_ms"] >= paused_at + 5000


def test_next_and_previous(sim: Sim, demo: httpx.Client) -> None:
    before = sim.playback()
    assert demo.post("/me/player/next").status_code == 204
    after = sim.playback()
    assert after["track_uri"] == before["upcoming"][0]
    # Within 3 s of the start, previous goes back a track.
    assert demo.post("/me/player/previous").status_code == 204
    assert sim.playback()["track_uri"] == before["track_uri"]
    # Later than 3 s in, previous restarts the same track.
    sim.advance(10)
    assert demo.post("/me/player/previous").status_code == 204
    state = sim.playback()
    assert state["track_uri"] == before["track_uri"]
    assert state["progress_ms"] < 1000


def test_previous_on_first_track_is_refused(sim: Sim, demo: httpx.Client) -> None:
    demo.put("/me/player/seek", params={"position_ms": 0})
    response = demo.post("/me/player/previous")
    assert response.status_code == 403
    assert error_of(response)["reason"] == "NO_PREV_TRACK"
    assert demo.get("/me/player").json()["actions"]["disallows"]["skipping_prev"] is True


def test_next_at_the_end_is_refused(sim: Sim, demo: httpx.Client) -> None:
    uris = sim.playlists()[0]["track_uris"][:2]
    demo.put("/me/player/play", json={"uris": uris, "offset": {"position": 1}})
    response = demo.post("/me/player/next")
    assert response.status_code == 403
    assert error_of(response)["reason"] == "NO_NEXT_TRACK"


def test_play_context_with_offset_and_position(sim: Sim, demo: httpx.Client) -> None:
    chill = next(p for p in sim.playlists() if p["id"] == DEMO_CHILL_PLAYLIST_ID)
    response = demo.put(
        "/me/player/play",
        json={
            "context_uri": chill["uri"],
            "offset": {"uri": chill["track_uris"][3]},
            "position_ms": 5000,
        },
    )
    assert response.status_code == 204
    state = sim.playback()
    assert state["context_uri"] == chill["uri"]
    assert state["track_uri"] == chill["track_uris"][3]
    assert 5000 <= state["progress_ms"] < 7000
    assert state["upcoming"][:2] == chill["track_uris"][4:6]

    demo.put("/me/player/play", json={"context_uri": chill["uri"], "offset": {"position": 7}})
    assert sim.playback()["track_uri"] == chill["track_uris"][7]


def test_play_album_context(sim: Sim, demo: httpx.Client) -> None:
    album_id = next(iter(sim.state.catalog.albums))
    response = demo.put("/me/player/play", json={"context_uri": f"spotify:album:{album_id}"})
    assert response.status_code == 204
    first_track = sim.state.catalog.album_tracks[album_id][0]
    assert sim.playback()["track_uri"] == f"spotify:track:{first_track}"
    assert demo.get("/me/player").json()["context"]["type"] == "album"


def test_play_uris_has_no_context(sim: Sim, demo: httpx.Client) -> None:
    uris = [track.uri for track in sim.state.catalog.tracks[:3]]
    assert demo.put("/me/player/play", json={"uris": uris}).status_code == 204
    body = demo.get("/me/player").json()
    assert body["context"] is None
    assert body["item"]["uri"] == uris[0]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"uris": ["spotify:track:nope"]}, 400),
        ({"uris": []}, 400),
        ({"uris": ["spotify:track:0000000000000000000000"]}, 404),
        ({"context_uri": "spotify:playlist:0000000000000000000000"}, 404),
        ({"context_uri": "bogus"}, 400),
        (
            {
                "context_uri": f"spotify:playlist:{DEMO_CHILL_PLAYLIST_ID}",
                "offset": {"position": 999},
            },
            400,
        ),
        ({"context_uri": f"spotify:playlist:{DEMO_CHILL_PLAYLIST_ID}", "position_ms": -5}, 400),
    ],
)
def test_play_bad_input(demo: httpx.Client, body: dict[str, object], status: int) -> None:
    response = demo.put("/me/player/play", json=body)
    assert response.status_code == status
    assert error_of(response)["status"] == status


def test_a_refused_play_moves_no_playback(sim: Sim, demo: httpx.Client) -> None:
    """Checked before anything changes: a bad offset leaves playback on its device."""
    before = sim.playback()
    response = demo.put(
        "/me/player/play",
        params={"device_id": DEMO_PHONE_ID},
        json={
            "context_uri": f"spotify:playlist:{DEMO_CHILL_PLAYLIST_ID}",
            "offset": {"position": 999},
        },
    )
    assert response.status_code == 400
    after = sim.playback()
    assert (after["device_id"], after["context_uri"]) == (
        before["device_id"],
        before["context_uri"],
    )


def test_malformed_json_body(demo: httpx.Client) -> None:
    response = demo.put(
        "/me/player/play", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "json" in str(error_of(response)["message"]).lower()


def test_seek(sim: Sim, demo: httpx.Client) -> None:
    assert demo.put("/me/player/seek", params={"position_ms": 60_000}).status_code == 204
    assert 60_000 <= sim.playback()["progress_ms"] < 61_000
    for bad in ({}, {"position_ms": "abc"}, {"position_ms": -1}):
        response = demo.put("/me/player/seek", params=bad)
        assert response.status_code == 400, bad


def test_seek_beyond_the_end_moves_to_the_next_track(sim: Sim, demo: httpx.Client) -> None:
    before = sim.playback()
    demo.put("/me/player/seek", params={"position_ms": before["duration_ms"] + 1})
    assert sim.playback()["track_uri"] == before["upcoming"][0]


def test_volume(sim: Sim, demo: httpx.Client) -> None:
    assert demo.put("/me/player/volume", params={"volume_percent": 30}).status_code == 204
    devices = demo.get("/me/player/devices").json()["devices"]
    assert next(d for d in devices if d["id"] == DEMO_DESKTOP_ID)["volume_percent"] == 30
    assert demo.get("/me/player").json()["device"]["volume_percent"] == 30
    demo.put("/me/player/volume", params={"volume_percent": 10, "device_id": DEMO_PHONE_ID})
    assert (
        next(d for d in sim.playback()["devices"] if d["id"] == DEMO_PHONE_ID)["volume_percent"]
        == 10
    )
    for bad in ({"volume_percent": 101}, {"volume_percent": -1}, {"volume_percent": "loud"}, {}):
        response = demo.put("/me/player/volume", params=bad)
        assert response.status_code == 400, bad
        assert error_of(response)["message"]


def test_volume_on_a_restricted_device(demo: httpx.Client) -> None:
    response = demo.put(
        "/me/player/volume", params={"volume_percent": 50, "device_id": DEMO_SPEAKER_ID}
    )
    assert response.status_code == 403
    assert error_of(response)["reason"] == "VOLUME_CONTROL_DISALLOW"


def test_shuffle_and_repeat(sim: Sim, demo: httpx.Client) -> None:
    assert demo.put("/me/player/shuffle", params={"state": "true"}).status_code == 204
    assert demo.put("/me/player/repeat", params={"state": "track"}).status_code == 204
    body = demo.get("/me/player").json()
    assert body["shuffle_state"] is True
    assert body["repeat_state"] == "track"
    assert demo.put("/me/player/shuffle", params={"state": "maybe"}).status_code == 400
    assert demo.put("/me/player/repeat", params={"state": "forever"}).status_code == 400
    assert demo.put("/me/player/repeat").status_code == 400


def test_queue_add_and_view(sim: Sim, demo: httpx.Client) -> None:
    uri = sim.state.catalog.tracks[10].uri
    assert demo.post("/me/player/queue", params={"uri": uri}).status_code == 204
    body = demo.get("/me/player/queue").json()
    assert body["queue"][0]["uri"] == uri
    assert len(body["queue"]) == 20
    assert body["currently_playing"]["uri"] == sim.playback()["track_uri"]
    assert demo.post("/me/player/next").status_code == 204
    assert sim.playback()["track_uri"] == uri
    for bad in ("spotify:album:xyz", "hello", ""):
        assert demo.post("/me/player/queue", params={"uri": bad}).status_code == 400


def test_transfer(sim: Sim, demo: httpx.Client) -> None:
    response = demo.put("/me/player", json={"device_ids": [DEMO_PHONE_ID], "play": False})
    assert response.status_code == 204
    body = demo.get("/me/player").json()
    assert body["device"]["id"] == DEMO_PHONE_ID
    assert body["is_playing"] is True  # play false keeps the current state
    demo.put("/me/player/pause")
    demo.put("/me/player", json={"device_ids": [DEMO_DESKTOP_ID], "play": True})
    state = sim.playback()
    assert state["device_id"] == DEMO_DESKTOP_ID
    assert state["is_playing"] is True


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"device_ids": ["unknown"]}, 404, None),
        ({"device_ids": [DEMO_SPEAKER_ID]}, 403, "DEVICE_NOT_CONTROLLABLE"),
        ({"device_ids": []}, 400, None),
        ({"device_ids": [DEMO_PHONE_ID, DEMO_DESKTOP_ID]}, 400, None),
        ({}, 400, None),
    ],
)
def test_transfer_errors(
    demo: httpx.Client, body: dict[str, object], status: int, reason: str | None
) -> None:
    response = demo.put("/me/player", json=body)
    assert response.status_code == status
    assert error_of(response).get("reason") == reason


def test_restricted_active_device_refuses_commands(sim: Sim, demo: httpx.Client) -> None:
    assert sim.app_action(action="transfer", device_id=DEMO_SPEAKER_ID).status_code == 200
    for method, path in (("PUT", "/me/player/pause"), ("POST", "/me/player/next")):
        response = demo.request(method, path)
        assert response.status_code == 403
        assert error_of(response)["reason"] == "DEVICE_NOT_CONTROLLABLE"
    # Reading still works.
    assert demo.get("/me/player").json()["device"]["id"] == DEMO_SPEAKER_ID


@pytest.mark.parametrize(
    ("method", "path", "params"),
    COMMANDS,
)
def test_free_user_gets_premium_required(
    sim: Sim, method: str, path: str, params: dict[str, str]
) -> None:
    with sim.api("free") as free:
        response = free.request(method, path, params=params)
    assert response.status_code == 403
    assert error_of(response) == {
        "status": 403,
        "message": "Player command failed: Premium required",
        "reason": "PREMIUM_REQUIRED",
    }


def test_free_user_can_read_and_transfer_is_refused(sim: Sim) -> None:
    with sim.api("free") as free:
        body = free.get("/me/player").json()
        assert body["device"]["id"] == FREE_LAPTOP_ID
        assert body["is_playing"] is False
        response = free.put("/me/player", json={"device_ids": [FREE_LAPTOP_ID]})
        assert error_of(response)["reason"] == "PREMIUM_REQUIRED"


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [*COMMANDS, ("POST", "/me/player/queue", {"uri": "<a catalog track>"})],
)
def test_no_active_device(
    sim: Sim, demo: httpx.Client, method: str, path: str, params: dict[str, str]
) -> None:
    assert sim.app_action(action="disconnect").status_code == 200
    if "uri" in params:
        params = {"uri": sim.state.catalog.tracks[0].uri}
    response = demo.request(method, path, params=params)
    assert response.status_code == 404
    assert error_of(response) == {
        "status": 404,
        "message": "Player command failed: No active device found",
        "reason": "NO_ACTIVE_DEVICE",
    }


def test_nothing_active_gives_204_and_play_on_a_device_starts_it(
    sim: Sim, demo: httpx.Client
) -> None:
    sim.app_action(action="disconnect")
    assert demo.get("/me/player").status_code == 204
    assert demo.get("/me/player/currently-playing").status_code == 204
    assert demo.get("/me/player/queue").json() == {"currently_playing": None, "queue": []}
    assert not any(d["is_active"] for d in demo.get("/me/player/devices").json()["devices"])
    response = demo.put("/me/player/play", params={"device_id": DEMO_PHONE_ID})
    assert response.status_code == 204
    state = sim.playback()
    assert state["device_id"] == DEMO_PHONE_ID
    assert state["is_playing"] is True


def test_unknown_device_id_is_404(demo: httpx.Client) -> None:
    response = demo.put("/me/player/pause", params={"device_id": "nope"})
    assert response.status_code == 404
    assert error_of(response)["message"] == "Device not found"

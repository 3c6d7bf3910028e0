"""Ad breaks started through the control API, private sessions and local files: what the
Web API answers for each, as Spotify does, with the playback clock moved by the tests."""

from __future__ import annotations

import httpx

from tests.support.simulator import Sim
from tunedeck.simulator.defaults import DEMO_PHONE_ID

BOTH = {"additional_types": "track,episode"}


def test_an_ad_break_hides_the_item_then_playback_resumes_where_it_was(
    sim: Sim, demo: httpx.Client
) -> None:
    before = sim.playback()
    snapshot = sim.start_ad(20)
    assert snapshot["currently_playing_type"] == "ad"
    assert snapshot["ad"] == {"duration_ms": 20_000, "progress_ms": 0}
    assert snapshot["track_uri"] == before["track_uri"]
    paused_at = snapshot["progress_ms"]
    assert paused_at >= before["progress_ms"]

    sim.advance(5)
    for path in ("/me/player", "/me/player/currently-playing"):
        for params in ({}, BOTH):
            body = demo.get(path, params=params).json()
            assert body["currently_playing_type"] == "ad", path
            assert body["item"] is None
            assert body["context"] is None
            assert body["is_playing"] is True
            assert 5000 <= body["progress_ms"] < 6500
    disallows = demo.get("/me/player").json()["actions"]["disallows"]
    assert disallows["skipping_next"] is True
    assert disallows["seeking"] is True
    assert "pausing" not in disallows
    # The interrupted track waits, frozen, while the ad plays.
    sim.advance(5)
    assert sim.playback()["progress_ms"] == paused_at
    assert demo.get("/me/player").json()["progress_ms"] >= 10_000

    sim.advance(12)  # the ad ended 2 s ago
    after = demo.get("/me/player", params=BOTH).json()
    assert after["currently_playing_type"] == "track"
    assert after["item"]["uri"] == before["track_uri"]
    assert after["context"]["uri"] == before["context_uri"]
    assert paused_at + 2000 <= after["progress_ms"] < paused_at + 3500
    assert sim.playback()["ad"] is None


def test_an_ad_cannot_be_skipped_but_can_be_paused(sim: Sim, demo: httpx.Client) -> None:
    sim.start_ad(30)
    for method, path, params in (
        ("POST", "/me/player/next", {}),
        ("POST", "/me/player/previous", {}),
        ("PUT", "/me/player/seek", {"position_ms": "1000"}),
    ):
        refused = demo.request(method, path, params=params)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["reason"] == "UNKNOWN"
    other = sim.state.catalog.tracks[3].uri
    assert demo.put("/me/player/play", json={"uris": [other]}).status_code == 403
    assert sim.app_action(action="next").status_code == 409
    sim.advance(4)
    assert demo.put("/me/player/pause").status_code == 204
    sim.advance(60)
    paused = demo.get("/me/player").json()
    assert paused["currently_playing_type"] == "ad"
    assert paused["is_playing"] is False
    assert 4000 <= paused["progress_ms"] < 5500
    assert demo.put("/me/player/play").status_code == 204
    sim.advance(27)
    assert demo.get("/me/player").json()["currently_playing_type"] == "track"
    assert demo.put("/me/player/play", json={"uris": [other]}).status_code == 204
    assert sim.playback()["track_uri"] == other


def test_an_ad_break_ended_early_and_refusals(sim: Sim, demo: httpx.Client) -> None:
    before = sim.playback()
    sim.start_ad(60)
    assert sim.http.post("/_sim/users/demo/ad", json={"seconds": 10}).status_code == 409
    ended = sim.end_ad()
    assert ended["currently_playing_type"] == "track"
    assert ended["track_uri"] == before["track_uri"]
    assert demo.get("/me/player").json()["item"]["uri"] == before["track_uri"]
    assert sim.end_ad()["ad"] is None  # nothing to end: no change
    for seconds in (0, -5, "ten", True, 7200):
        response = sim.http.post("/_sim/users/demo/ad", json={"seconds": seconds})
        assert response.status_code == 400, seconds
    assert sim.http.post("/_sim/users/nobody/ad", json={}).status_code == 404
    sim.app_action(action="disconnect")
    assert sim.http.post("/_sim/users/demo/ad", json={}).status_code == 409


def test_an_ad_during_an_episode_resumes_the_episode(sim: Sim, demo: httpx.Client) -> None:
    episode = sim.play_episode(position_ms=90_000)["track_uri"]
    sim.start_ad(15)
    sim.advance(16)
    body = demo.get("/me/player", params=BOTH).json()
    assert body["currently_playing_type"] == "episode"
    assert body["item"]["uri"] == episode
    assert 91_000 <= body["progress_ms"] < 92_500


def test_private_session_hides_item_context_and_progress(sim: Sim, demo: httpx.Client) -> None:
    snapshot = sim.private_session()
    assert snapshot["private_session"] is True
    body = demo.get("/me/player", params=BOTH).json()
    assert body["device"]["is_private_session"] is True
    assert body["item"] is None
    assert body["context"] is None
    assert body["progress_ms"] is None
    assert body["is_playing"] is True
    # Another device's private session does not hide what the active one plays.
    sim.private_session(False)
    sim.private_session(device_id=DEMO_PHONE_ID)
    visible = demo.get("/me/player").json()
    assert visible["item"]["uri"] == snapshot["track_uri"]
    devices = {d["id"]: d for d in demo.get("/me/player/devices").json()["devices"]}
    assert devices[DEMO_PHONE_ID]["is_private_session"] is True
    assert sim.app_action(action="private_session", state="yes").status_code == 400


def test_a_local_file_plays_with_null_ids_and_no_art(sim: Sim, demo: httpx.Client) -> None:
    snapshot = sim.play_local_file("Home Band", "Garage: Demo", album="Tapes", seconds=95)
    uri = snapshot["track_uri"]
    assert uri == "spotify:local:Home+Band:Tapes:Garage%3A+Demo:95"
    assert snapshot["duration_ms"] == 95_000
    item = demo.get("/me/player").json()["item"]
    # Spotify's local-file shape, which the OpenAPI description does not model: null ids
    # and links on the track, its album and artists.
    assert item["is_local"] is True
    assert item["id"] is None
    assert item["href"] is None
    assert item["album"]["id"] is None
    assert item["album"]["uri"] is None
    assert item["artists"][0]["id"] is None
    assert item["uri"] == uri
    assert item["name"] == "Garage: Demo"
    assert item["artists"][0]["name"] == "Home Band"
    assert item["album"]["name"] == "Tapes"
    assert item["album"]["images"] == []
    assert item["duration_ms"] == 95_000
    sim.advance(96)
    ended = demo.get("/me/player").json()
    assert ended["is_playing"] is False
    assert ended["progress_ms"] == 0
    # Only the app plays local files: the Web API refuses the uri.
    assert demo.put("/me/player/play", json={"uris": [uri]}).status_code == 400
    bad = sim.app_action(action="play", uris=["spotify:local:only:three:parts"])
    assert bad.status_code == 400

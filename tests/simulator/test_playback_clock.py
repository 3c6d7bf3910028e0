"""The playback clock: progress advances, tracks end, the queue then the context take over."""

from __future__ import annotations

import random

import httpx
import pytest

from tests.support.simulator import Sim
from tunedeck.simulator.playback import Player, PlayerRefusal

DURATIONS = {f"t{i}": 100_000 + i * 1000 for i in range(10)}


def engine(uris: list[str], **kwargs: object) -> Player:
    player = Player(duration_of=DURATIONS.__getitem__, rng=random.Random(1), device_id="d")
    player.load(0.0, uris, context_uri="spotify:playlist:x", **kwargs)  # type: ignore[arg-type]
    return player


def remaining_s(sim: Sim) -> float:
    state = sim.playback()
    return float(state["duration_ms"] - state["progress_ms"]) / 1000


def test_progress_advances_in_real_time_and_with_the_clock(sim: Sim, demo: httpx.Client) -> None:
    first = demo.get("/me/player").json()["progress_ms"]
    sim.advance(20)
    second = demo.get("/me/player").json()["progress_ms"]
    assert 20_000 <= second - first < 21_000


def test_track_end_plays_the_queue_then_the_context(sim: Sim, demo: httpx.Client) -> None:
    start = sim.playback()
    queued = sim.state.catalog.tracks[5].uri
    demo.post("/me/player/queue", params={"uri": queued})
    sim.advance(remaining_s(sim) + 1)
    state = sim.playback()
    assert state["track_uri"] == queued
    assert state["queue"] == []
    assert 500 <= state["progress_ms"] < 2500
    sim.advance(remaining_s(sim) + 0.5)
    # After the queued track, the context resumes where it left off.
    assert sim.playback()["track_uri"] == start["upcoming"][0]


def test_context_ends_with_repeat_off(sim: Sim, demo: httpx.Client) -> None:
    uris = [track.uri for track in sim.state.catalog.tracks[:2]]
    demo.put("/me/player/play", json={"uris": uris})
    sim.advance(remaining_s(sim) + 0.1)
    assert sim.playback()["track_uri"] == uris[1]
    sim.advance(remaining_s(sim) + 5)
    body = demo.get("/me/player").json()
    assert body["is_playing"] is False
    assert body["item"]["uri"] == uris[0]
    assert body["progress_ms"] == 0


def test_repeat_context_wraps_and_repeat_track_replays(sim: Sim, demo: httpx.Client) -> None:
    uris = [track.uri for track in sim.state.catalog.tracks[:2]]
    demo.put("/me/player/play", json={"uris": uris, "offset": {"position": 1}})
    demo.put("/me/player/repeat", params={"state": "context"})
    sim.advance(remaining_s(sim) + 0.1)
    state = sim.playback()
    assert state["track_uri"] == uris[0]
    assert state["is_playing"] is True
    demo.put("/me/player/repeat", params={"state": "track"})
    sim.advance(remaining_s(sim) + 0.1)
    assert sim.playback()["track_uri"] == uris[0]
    # next still moves on under repeat-track.
    demo.post("/me/player/next")
    assert sim.playback()["track_uri"] == uris[1]


def test_shuffle_plays_every_context_item_once(sim: Sim, demo: httpx.Client) -> None:
    uris = [track.uri for track in sim.state.catalog.tracks[:8]]
    demo.put("/me/player/play", json={"uris": uris})
    demo.put("/me/player/shuffle", params={"state": "true"})
    upcoming = sim.playback()["upcoming"]
    assert sorted(upcoming) == sorted(uris[1:])
    assert upcoming != uris[1:]  # seeded, and this seed does shuffle
    played = [sim.playback()["track_uri"]]
    for _ in range(7):
        demo.post("/me/player/next")
        played.append(sim.playback()["track_uri"])
    assert sorted(played) == sorted(uris)
    demo.put("/me/player/shuffle", params={"state": "false"})
    index = uris.index(played[-1])
    assert sim.playback()["upcoming"] == uris[index + 1 :]


def test_queue_view_is_user_items_then_context_capped_at_20(sim: Sim, demo: httpx.Client) -> None:
    queued = [track.uri for track in sim.state.catalog.tracks[100:103]]
    for uri in queued:
        demo.post("/me/player/queue", params={"uri": uri})
    upcoming = sim.playback()["upcoming"]
    body = demo.get("/me/player/queue").json()
    assert [item["uri"] for item in body["queue"]] == upcoming
    assert upcoming[:3] == queued
    assert len(body["queue"]) == 20


def test_long_advance_settles_without_hanging(sim: Sim) -> None:
    client = sim.api("demo", expires_in=30 * 24 * 3600)
    client.put("/me/player/repeat", params={"state": "context"})
    sim.advance(7 * 24 * 3600)
    body = client.get("/me/player").json()
    assert body["is_playing"] is True
    assert 0 <= body["progress_ms"] <= body["item"]["duration_ms"]


def test_app_actions_change_spotify_side_state(sim: Sim, demo: httpx.Client) -> None:
    before = sim.playback()
    assert sim.app_action(action="pause").json()["is_playing"] is False
    assert demo.get("/me/player").json()["is_playing"] is False
    assert sim.app_action(action="play").json()["is_playing"] is True
    assert sim.app_action(action="next").json()["track_uri"] == before["upcoming"][0]
    state = sim.app_action(action="volume", volume_percent=12).json()
    assert state["volume_percent"] == 12
    state = sim.app_action(action="seek", position_ms=30_000).json()
    assert 30_000 <= state["progress_ms"] < 31_000
    phone = before["devices"][1]["id"]
    assert sim.app_action(action="transfer", device_id=phone).json()["device_id"] == phone
    assert demo.get("/me/player").json()["device"]["id"] == phone
    bad = sim.app_action(action="dance")
    assert bad.status_code == 400


# -- the engine itself, without HTTP ----------------------------------------------------


def test_engine_natural_end_and_repeat_track() -> None:
    player = engine(["t0", "t1", "t2"])
    player.settle(100.5)
    assert player.track_uri == "t1"
    assert 400 <= player.progress_ms(100.5) <= 600
    player.set_repeat(100.5, "track")
    player.settle(100.0 + 101.0 + 50.0)
    assert player.track_uri == "t1"


def test_engine_previous_rules_and_refusals() -> None:
    player = engine(["t0", "t1"])
    with pytest.raises(PlayerRefusal) as refusal:
        player.previous(1.0)
    assert refusal.value.reason == "NO_PREV_TRACK"
    player.next(1.0)
    player.previous(5.0)  # 4 s in: restart, not back
    assert player.track_uri == "t1"
    player.previous(6.0)  # 1 s in: back
    assert player.track_uri == "t0"


def test_engine_pause_freezes_progress() -> None:
    player = engine(["t0"])
    player.pause(10.0)
    assert player.progress_ms(500.0) == 10_000
    player.resume(500.0)
    assert player.progress_ms(501.0) == 11_000

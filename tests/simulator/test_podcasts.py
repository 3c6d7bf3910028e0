"""Podcast shows and episodes: the seeded shows, their Web API endpoints and cover art,
and playing episodes (show context, uris, queue) with ``additional_types`` as on Spotify."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx

from tests.support.simulator import Sim
from tunedeck.simulator.catalog_builder import build_shows

EPISODES = {"additional_types": "episode"}


def is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def remaining_s(sim: Sim) -> float:
    state = sim.playback()
    return float(state["duration_ms"] - state["progress_ms"]) / 1000


def test_shows_are_seeded_and_varied(sim: Sim) -> None:
    shows = sim.shows()
    assert 3 <= len(shows) <= 4
    assert all(5 <= len(show["episodes"]) <= 10 for show in shows)
    names = [show["name"] for show in shows]
    assert any(is_rtl(name) for name in names)
    assert any(len(name) > 100 for name in names)
    for show in shows:
        dates = [episode["release_date"] for episode in show["episodes"]]
        assert dates == sorted(dates, reverse=True), "episodes are listed newest first"
    # Same seed, same shows; another seed, other ids.
    again, _ = build_shows(sim.state.catalog.seed)
    assert [show.id for show in again.values()] == [show["id"] for show in shows]
    other, _ = build_shows(sim.state.catalog.seed + 1)
    assert set(other).isdisjoint(show["id"] for show in shows)


def test_show_and_episode_endpoints(sim: Sim, demo: httpx.Client) -> None:
    show = sim.shows()[1]
    body = demo.get(f"/shows/{show['id']}").json()
    assert body["type"] == "show"
    assert body["name"] == show["name"]
    assert body["publisher"] == show["publisher"]
    assert body["total_episodes"] == len(show["episodes"])
    assert [e["uri"] for e in body["episodes"]["items"]] == [e["uri"] for e in show["episodes"]]
    assert "show" not in body["episodes"]["items"][0]

    page = demo.get(f"/shows/{show['id']}/episodes", params={"limit": 2, "offset": 1}).json()
    assert [e["id"] for e in page["items"]] == [e["id"] for e in show["episodes"][1:3]]
    assert page["total"] == len(show["episodes"])
    assert page["previous"] is not None
    assert page["next"] is not None

    first = show["episodes"][0]
    episode = demo.get(f"/episodes/{first['id']}").json()
    assert episode["type"] == "episode"
    assert episode["name"] == first["name"]
    assert episode["duration_ms"] == first["duration_ms"]
    assert episode["release_date"] == first["release_date"]
    assert episode["show"]["uri"] == show["uri"]
    assert episode["images"] == episode["show"]["images"]

    many = demo.get("/episodes", params={"ids": f"{first['id']},{'0' * 22}"}).json()
    assert [e and e["id"] for e in many["episodes"]] == [first["id"], None]
    listed = demo.get("/shows", params={"ids": show["id"]}).json()["shows"]
    assert [s["id"] for s in listed] == [show["id"]]
    assert demo.get(f"/episodes/{'0' * 22}").status_code == 404
    assert demo.get(f"/shows/{'0' * 22}").status_code == 404
    assert demo.get("/shows/not-an-id").status_code == 400


def test_show_cover_art_is_served(sim: Sim, demo: httpx.Client) -> None:
    show = sim.shows()[0]
    images = demo.get(f"/shows/{show['id']}").json()["images"]
    assert [image["width"] for image in images] == [640, 300, 64]
    art = httpx.get(images[0]["url"])
    assert art.status_code == 200
    assert art.headers["content-type"].startswith("image/svg+xml")
    assert 'width="640"' in art.text
    assert httpx.get(images[0]["url"].replace("/640.svg", "/123.svg")).status_code == 404


def test_play_a_show_from_an_episode(sim: Sim, demo: httpx.Client) -> None:
    show = sim.shows()[2]
    second = show["episodes"][1]["uri"]
    response = demo.put(
        "/me/player/play",
        json={"context_uri": show["uri"], "offset": {"uri": second}, "position_ms": 60_000},
    )
    assert response.status_code == 204
    state = demo.get("/me/player", params=EPISODES).json()
    assert state["currently_playing_type"] == "episode"
    assert state["item"]["uri"] == second
    assert state["item"]["show"]["name"] == show["name"]
    assert state["context"] == {
        "external_urls": {"spotify": f"https://open.spotify.com/show/{show['id']}"},
        "href": f"{sim.base}/v1/shows/{show['id']}",
        "type": "show",
        "uri": show["uri"],
    }
    assert 60_000 <= state["progress_ms"] < 62_000
    assert sim.playback()["upcoming"] == [e["uri"] for e in show["episodes"][2:]]
    both = demo.get("/me/player/currently-playing", params={"additional_types": "track,episode"})
    assert both.json()["item"]["uri"] == second


def test_without_additional_types_an_episode_is_a_null_item(sim: Sim, demo: httpx.Client) -> None:
    snapshot = sim.play_episode(position_ms=5000)
    assert snapshot["currently_playing_type"] == "episode"
    for path in ("/me/player", "/me/player/currently-playing"):
        for params in ({}, {"additional_types": "track"}):
            body = demo.get(path, params=params).json()
            assert body["item"] is None, (path, params)
            assert body["currently_playing_type"] == "episode"
            assert body["progress_ms"] >= 5000
            assert body["is_playing"] is True
        asked = demo.get(path, params=EPISODES).json()
        assert asked["item"]["uri"] == snapshot["track_uri"]


def test_episodes_follow_each_other_with_the_clock(sim: Sim, demo: httpx.Client) -> None:
    show = sim.shows()[3]
    uris = [episode["uri"] for episode in show["episodes"]]
    sim.play_episode(uris[0])
    sim.advance(remaining_s(sim) + 2)
    state = sim.playback()
    assert state["track_uri"] == uris[1]
    assert 1500 <= state["progress_ms"] < 4000
    assert demo.get("/me/player", params=EPISODES).json()["item"]["uri"] == uris[1]
    assert demo.post("/me/player/next").status_code == 204
    assert sim.playback()["track_uri"] == uris[2]
    assert demo.post("/me/player/previous").status_code == 204
    assert sim.playback()["track_uri"] == uris[1]


def test_play_and_queue_episode_uris(sim: Sim, demo: httpx.Client) -> None:
    episodes: list[dict[str, Any]] = sim.shows()[0]["episodes"]
    track = sim.state.catalog.tracks[0].uri
    assert (
        demo.put("/me/player/play", json={"uris": [episodes[0]["uri"], track]}).status_code == 204
    )
    assert demo.post("/me/player/queue", params={"uri": episodes[3]["uri"]}).status_code == 204
    queue = demo.get("/me/player/queue").json()
    assert queue["currently_playing"]["uri"] == episodes[0]["uri"]
    assert [item["uri"] for item in queue["queue"]] == [episodes[3]["uri"], track]
    assert [item["type"] for item in queue["queue"]] == ["episode", "track"]
    assert demo.post("/me/player/next").status_code == 204
    assert sim.playback()["track_uri"] == episodes[3]["uri"]
    # The app queues episodes too.
    assert sim.app_action(action="queue", uri=episodes[4]["uri"]).status_code == 200
    assert sim.playback()["queue"] == [episodes[4]["uri"]]


def test_unknown_or_malformed_episodes_are_refused(sim: Sim, demo: httpx.Client) -> None:
    missing = "spotify:episode:" + "0" * 22
    assert demo.put("/me/player/play", json={"uris": [missing]}).status_code == 404
    assert demo.post("/me/player/queue", params={"uri": missing}).status_code == 404
    bad = demo.put("/me/player/play", json={"uris": ["spotify:episode:short"]})
    assert bad.status_code == 400
    assert "Invalid episode uri" in bad.json()["error"]["message"]
    unknown_show = demo.put("/me/player/play", json={"context_uri": "spotify:show:" + "0" * 22})
    assert unknown_show.status_code == 404
    assert sim.app_action(action="queue", uri=missing).status_code == 400

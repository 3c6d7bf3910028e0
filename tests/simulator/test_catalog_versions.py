"""Other versions of catalog tracks (karaoke, live, remix, clean...) and markets: what song
request matching meets in Spotify's search, and how ``market`` changes a track's answer."""

from __future__ import annotations

from collections import Counter

import httpx

from tests.support.simulator import Sim
from tunedeck.simulator.catalog import Catalog, Version
from tunedeck.simulator.catalog_builder import build_catalog
from tunedeck.simulator.catalog_versions import ELSEWHERE, FAR_AWAY

#: A word each kind of version shows in its title or its artist's name.
MARKS = {
    "karaoke": ("karaoke", "made famous by"),
    "cover": ("cover", "tribute"),
    "live": ("live",),
    "remix": ("remix", "mix"),
    "sped_up": ("sped up",),
    "slowed": ("slowed",),
    "nightcore": ("nightcore",),
    "instrumental": ("instrumental",),
    "acoustic": ("acoustic",),
    "8d": ("8d",),
}


def _of(catalog: Catalog, kind: str) -> list[Version]:
    return [version for version in catalog.versions if version.kind == kind]


def test_versions_are_deterministic_and_apart_from_the_tracks() -> None:
    build_catalog.cache_clear()
    first = build_catalog(11, 800)
    build_catalog.cache_clear()
    again = build_catalog(11, 800)
    assert [(v.track.id, v.track.name, v.kind) for v in first.versions] == [
        (v.track.id, v.track.name, v.kind) for v in again.versions
    ]
    assert len(first.tracks) == 800
    base = {track.id for track in first.tracks}
    assert all(version.track.id not in base for version in first.versions)
    assert all(first.track(version.track.id) is version.track for version in first.versions)


def test_every_kind_is_there_and_named_as_spotify_names_it(sim: Sim) -> None:
    catalog = sim.state.catalog
    kinds = Counter(version.kind for version in catalog.versions)
    assert set(kinds) == {*MARKS, "clean", "regional", "region_locked"}
    for version in catalog.versions:
        if version.kind not in MARKS:
            continue
        text = " ".join([version.track.name, *(a.name for a in version.track.artists)]).lower()
        assert any(mark in text for mark in MARKS[version.kind]), (version.kind, text)


def test_versions_are_less_popular_than_their_originals_except_regional_releases(
    sim: Sim,
) -> None:
    catalog = sim.state.catalog
    for version in catalog.versions:
        if version.original_id is None:
            continue
        original = catalog.track(version.original_id)
        assert original is not None
        if version.kind == "regional":
            assert version.track.popularity >= original.popularity
            assert version.track.name == original.name
        else:
            assert version.track.popularity < max(1, original.popularity)


def test_explicit_originals_have_clean_versions(sim: Sim) -> None:
    catalog = sim.state.catalog
    cleans = _of(catalog, "clean")
    assert len(cleans) >= 2
    for clean in cleans:
        assert clean.original_id is not None
        original = catalog.track(clean.original_id)
        assert original is not None
        assert original.explicit
        assert not clean.track.explicit
        assert (clean.track.name, clean.track.artists) == (original.name, original.artists)


def test_a_search_finds_the_original_first_and_its_versions_after(
    sim: Sim, demo: httpx.Client
) -> None:
    catalog = sim.state.catalog
    version = _of(catalog, "karaoke")[0]
    assert version.original_id is not None
    original = catalog.track(version.original_id)
    assert original is not None
    uris: list[str] = []
    url: str | None = f"/search?q={original.name}&type=track&limit=50"
    while url is not None:
        body = demo.get(url).json()
        page = body["tracks"]
        uris += [item["uri"] for item in page["items"]]
        url = page["next"]
    assert version.track.uri in uris
    assert uris.index(original.uri) < uris.index(version.track.uri)


def test_the_demo_user_is_in_a_market_that_restricted_tracks_leave_out(
    sim: Sim, demo: httpx.Client
) -> None:
    assert demo.get("/me").json()["country"] == "US"
    restricted = [v for v in sim.state.catalog.versions if v.track.markets is not None]
    assert {v.kind for v in restricted} == {"regional", "region_locked"}
    assert all(v.track.markets in (ELSEWHERE, FAR_AWAY) for v in restricted)


def test_a_track_without_market_lists_its_markets(sim: Sim, demo: httpx.Client) -> None:
    locked = _of(sim.state.catalog, "region_locked")[0].track
    body = demo.get(f"/tracks/{locked.id}").json()
    assert body["available_markets"] == list(locked.available_markets)
    assert "is_playable" not in body
    assert body["album"]["available_markets"] == sorted(locked.available_markets)
    everywhere = demo.get(f"/tracks/{sim.state.catalog.tracks[0].id}").json()
    assert everywhere["available_markets"] == ["CA", "DE", "FR", "GB", "SE", "US"]


def test_a_track_in_a_market_says_whether_it_plays_there(sim: Sim, demo: httpx.Client) -> None:
    locked = _of(sim.state.catalog, "region_locked")[0].track
    other = locked.available_markets[0]
    refused = demo.get(f"/tracks/{locked.id}", params={"market": "from_token"}).json()
    assert refused["is_playable"] is False
    assert refused["restrictions"] == {"reason": "market"}
    assert "available_markets" not in refused
    there = demo.get(f"/tracks/{locked.id}", params={"market": other}).json()
    assert there["is_playable"] is True
    assert "restrictions" not in there
    plain = sim.state.catalog.tracks[0]
    both = demo.get(
        "/tracks", params={"ids": f"{plain.id},{locked.id}", "market": "from_token"}
    ).json()["tracks"]
    assert [item["is_playable"] for item in both] == [True, False]


def test_a_bad_market_is_refused(sim: Sim, demo: httpx.Client) -> None:
    track_id = sim.state.catalog.tracks[0].id
    for bad in ("usa", "us", "U1", "from-token"):
        response = demo.get(f"/tracks/{track_id}", params={"market": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["message"] == "Invalid market code"
    assert demo.get("/search", params={"q": "a", "type": "track", "market": "x"}).status_code == 400


def test_a_search_in_the_users_market_marks_what_cannot_play(sim: Sim, demo: httpx.Client) -> None:
    catalog = sim.state.catalog
    regional = _of(catalog, "regional")[0]
    assert regional.original_id is not None
    original = catalog.track(regional.original_id)
    assert original is not None
    query = f'track:"{original.name}" artist:"{original.artists[0].name}"'
    params: dict[str, str | int] = {"q": query, "type": "track", "limit": 10}
    params["market"] = "from_token"
    page = demo.get("/search", params=params).json()["tracks"]
    items = {item["uri"]: item for item in page["items"]}
    uris = list(items)
    # The regional release ranks first, and cannot play in the user's market.
    assert uris.index(regional.track.uri) < uris.index(original.uri)
    assert items[regional.track.uri]["is_playable"] is False
    assert items[original.uri]["is_playable"] is True
    if page["next"] is not None:
        assert "market=from_token" in page["next"]

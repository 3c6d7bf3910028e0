"""Song requests matched against Spotify (the simulator over loopback HTTP): links and
searches, other versions passed over, the streamer's market, and the cache with single
flight that keeps a chat repeating one !sr down to one Spotify call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache

import pytest

from tests.spotify.conftest import MakeClient, Simulator
from tunedeck.requests.matching import Matcher, search_words
from tunedeck.requests.parsing import SearchText, TrackLink, parse_request
from tunedeck.requests.reasons import Reason, Refusal
from tunedeck.simulator.catalog import Catalog, Version
from tunedeck.simulator.catalog import Track as CatalogTrack
from tunedeck.simulator.catalog_builder import build_catalog
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.spotify.models import Track

SEARCH = "GET /v1/search"


@cache
def catalog() -> Catalog:
    """The simulator's catalog (the same seed and size build the same one)."""
    config = SimulatorConfig()
    return build_catalog(config.seed, config.catalog_size)


def versions(kind: str) -> list[Version]:
    return [version for version in catalog().versions if version.kind == kind]


def original_of(version: Version) -> CatalogTrack:
    assert version.original_id is not None
    original = catalog().track(version.original_id)
    assert original is not None
    return original


def version_uris() -> set[str]:
    return {version.track.uri for version in catalog().versions}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (a bounded number of loop turns) until ``condition`` holds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


async def test_a_track_link_is_looked_up_in_the_streamers_market(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    wanted = catalog().tracks[7]
    found = await Matcher().match(client, "acct", f"https://open.spotify.com/track/{wanted.id}")
    assert isinstance(found, Track)
    assert (found.uri, found.name) == (wanted.uri, wanted.name)
    asked = [entry for entry in await sim.log() if entry["path"] == f"/v1/tracks/{wanted.id}"]
    assert [entry["query"] for entry in asked] == [{"market": "from_token"}]


async def test_a_link_to_what_the_market_cannot_play_is_refused(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    locked = versions("region_locked")[0].track
    refused = await Matcher().match(client, "acct", f"spotify:track:{locked.id}")
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_AVAILABLE


async def test_a_link_to_no_track_is_not_found(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    refused = await Matcher().match(client, "acct", "spotify:track:0000000000000000000000")
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_FOUND


async def test_input_refusals_never_reach_spotify(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    matcher = Matcher()
    for typed in ("", "spotify:album:4cOdK2wGLETKBW3PvgPWqT", "https://youtu.be/x", "x" * 500):
        assert isinstance(await matcher.match(client, "acct", typed), Refusal)
    assert (await sim.stats())["total"] == 0


async def test_every_song_with_other_versions_finds_its_original(
    sim: Simulator, make_client: MakeClient
) -> None:
    """Searched as "title artist", each original beats its karaoke, live, remix, sped
    up... versions, and the releases its market cannot play."""
    client, _ = make_client()
    matcher = Matcher()
    others = version_uris()
    originals = {
        v.original_id: original_of(v)
        for v in catalog().versions
        if v.original_id and v.kind != "clean"
    }
    checked = 0
    for original in originals.values():
        if not original.playable_in("US"):
            continue
        text = f"{original.name} {original.artists[0].name}"
        found = await matcher.match(client, "acct", text)
        assert isinstance(found, Track), (text, found)
        assert found.uri not in others, (text, found.name)
        assert (found.name, found.artists[0].name) == (original.name, original.artists[0].name)
        checked += 1
    assert checked >= 40


async def test_a_version_asked_for_is_found(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    matcher = Matcher()
    for kind, word in (("live", "live"), ("sped_up", "sped up"), ("acoustic", "acoustic")):
        for version in versions(kind):
            original = original_of(version)
            text = f"{original.name} {word}"
            found = await matcher.match(client, "acct", text)
            assert isinstance(found, Track), text
            by_uri = {v.track.uri: v.kind for v in catalog().versions}
            assert by_uri.get(found.uri) == kind, (text, found.name)


async def test_a_release_the_market_cannot_play_gives_way_to_the_one_it_can(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    regional = versions("regional")[0]
    original = original_of(regional)
    text = f"{original.artists[0].name} - {original.name}"
    found = await Matcher().match(client, "acct", text)
    assert isinstance(found, Track)
    assert found.uri == original.uri
    searched = [e["query"] for e in await sim.log() if e["path"] == "/v1/search"]
    assert searched == [
        {
            "q": search_words(parse_words(text)),
            "type": "track",
            "limit": "10",
            "offset": "0",
            "market": "from_token",
        }
    ]


def parse_words(text: str) -> str:
    parsed = parse_request(text)
    assert isinstance(parsed, SearchText)
    return parsed.folded


async def test_a_song_only_other_markets_play_is_not_available(
    sim: Simulator, make_client: MakeClient
) -> None:
    """Even when its karaoke version plays here: a request never ends on a karaoke track."""
    client, _ = make_client()
    matcher = Matcher()
    locked = versions("region_locked")
    karaoke = [v for v in versions("karaoke") if v.original_id == locked[0].track.id]
    assert karaoke
    for version in locked:
        refused = await matcher.match(client, "acct", version.track.name)
        assert isinstance(refused, Refusal), version.track.name
        assert refused.code is Reason.NOT_AVAILABLE


async def test_a_clean_version_when_explicit_songs_are_off(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    matcher = Matcher()
    clean = versions("clean")[0]
    original = original_of(clean)
    text = f"{original.name} {original.artists[0].name}"
    explicit = await matcher.match(client, "acct", text)
    assert isinstance(explicit, Track)
    assert (explicit.uri, explicit.explicit) == (original.uri, True)
    found = await matcher.match(client, "acct", text, allow_explicit=False)
    assert isinstance(found, Track)
    assert (found.uri, found.explicit) == (clean.track.uri, False)


async def test_nothing_found_is_not_found(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    refused = await Matcher().match(client, "acct", "qqqzzz nothing like this")
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_FOUND


async def test_fifty_identical_requests_at_once_cost_one_search(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    await client.current_user()  # the token is minted before Spotify is held
    matcher = Matcher()
    original = catalog().tracks[3]
    texts = [original.name, original.name.upper(), f"  {original.name.lower()}!! "] * 17
    await sim.configure(hold_requests=True)
    asking = asyncio.gather(*(matcher.match(client, "acct", text) for text in texts[:50]))
    try:
        await until(lambda: matcher.in_flight == 1, "the search under way")
        held = await sim.requests(SEARCH)
    finally:
        await sim.configure(hold_requests=False)
    results = await asking
    assert held == 1
    assert len({r.uri if isinstance(r, Track) else r for r in results}) == 1
    assert await sim.requests(SEARCH) == 1
    assert matcher.in_flight == 0


async def test_answers_are_remembered_for_the_ttl_per_account(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    clock = Clock()
    matcher = Matcher(ttl=600, clock=clock)
    text = catalog().tracks[5].name
    first = await matcher.match(client, "acct", text)
    assert await matcher.match(client, "acct", f"{text.upper()}!") == first
    assert await sim.requests(SEARCH) == 1
    await matcher.match(client, "other", text)
    assert await sim.requests(SEARCH) == 2
    await matcher.match(client, "acct", text, allow_explicit=False)
    assert await sim.requests(SEARCH) == 3
    matcher.forget("acct")
    await matcher.match(client, "acct", text)
    assert await sim.requests(SEARCH) == 4
    await matcher.match(client, "other", text)
    assert await sim.requests(SEARCH) == 4
    clock.now = 599
    await matcher.match(client, "other", text)
    assert await sim.requests(SEARCH) == 4
    clock.now = 600
    await matcher.match(client, "other", text)
    assert await sim.requests(SEARCH) == 5


async def test_refusals_from_spotify_are_remembered_too(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    matcher = Matcher()
    for _ in range(3):
        await matcher.resolve(client, "acct", SearchText("qqqzzz", "qqqzzz"))
        await matcher.resolve(client, "acct", TrackLink("0000000000000000000000"))
    stats = await sim.stats()
    assert stats["requests"][SEARCH] == 1
    assert stats["requests"]["GET /v1/tracks/{id}"] == 1


async def test_spotify_out_of_order_is_a_refusal_not_remembered(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    await client.current_user()
    matcher = Matcher()
    text = catalog().tracks[9].name
    await sim.configure(quota_exceeded=True)
    refused = await matcher.match(client, "acct", text)
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.SPOTIFY_UNAVAILABLE
    await sim.configure(quota_exceeded=False)
    assert isinstance(await matcher.match(client, "acct", text), Track)
    assert await sim.requests(SEARCH) == 2


async def test_searches_stay_within_what_development_mode_apps_may_ask(
    sim: Simulator, make_client: MakeClient
) -> None:
    await sim.configure(development_mode=True)
    client, _ = make_client()
    found = await Matcher().match(client, "acct", catalog().tracks[11].name)
    assert isinstance(found, Track)
    assert await sim.requests(SEARCH) == 1


def test_the_search_limit_is_bounded() -> None:
    with pytest.raises(ValueError, match="search_limit"):
        Matcher(search_limit=11)
    with pytest.raises(ValueError, match="search_limit"):
        Matcher(search_limit=0)


def test_search_words_leave_out_chat_filler() -> None:
    assert search_words("neon harbor by nova park please") == "neon harbor nova park"
    assert search_words("by") == "by"

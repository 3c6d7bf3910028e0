"""A Spotify client nobody here wrote (spotipy) works against the simulator.

spotipy is pointed at the simulator through its documented seams: the API
``prefix`` and the OAuth manager's authorize and token URLs. It goes through
the real authorization-code flow, then every kind of call the product makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOAuth

from tests.support.servers import serve_in_thread
from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.defaults import (
    CURATOR_LOFI_PLAYLIST_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PHONE_ID,
    DEMO_SPEAKER_ID,
    DEMO_STREAM_PLAYLIST_ID,
)

REDIRECT_URI = "http://127.0.0.1:9/callback"
SCOPES = (
    "user-read-playback-state user-modify-playback-state user-read-currently-playing "
    "playlist-read-private playlist-modify-public playlist-modify-private user-library-modify"
)


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    with serve_in_thread(create_simulator_app()) as url:
        yield url


@pytest.fixture
def sim(simulator_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator_url, timeout=10) as client:
        client.post("/_sim/reset").raise_for_status()
        yield client


@pytest.fixture
def sp(simulator_url: str, sim: httpx.Client) -> spotipy.Spotify:
    """spotipy, authorized through the simulator's real authorization-code flow."""
    oauth = SpotifyOAuth(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        scope=SCOPES,
        state="interop-state",
        cache_handler=MemoryCacheHandler(),
        open_browser=False,
    )
    oauth.OAUTH_AUTHORIZE_URL = f"{simulator_url}/authorize"
    oauth.OAUTH_TOKEN_URL = f"{simulator_url}/api/token"

    approval = sim.get(oauth.get_authorize_url() + "&login=demo")
    assert approval.status_code in (302, 303, 307)
    query = parse_qs(urlsplit(approval.headers["location"]).query)
    assert query["state"] == ["interop-state"]
    oauth.get_access_token(query["code"][0], as_dict=False, check_cache=False)

    client = spotipy.Spotify(auth_manager=oauth, retries=0, status_retries=0)
    client.prefix = f"{simulator_url}/v1/"
    return client


def snapshot(sim: httpx.Client) -> dict[str, Any]:
    response = sim.get("/_sim/users/demo/playback")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def test_playback_state_and_currently_playing(sp: spotipy.Spotify) -> None:
    playback = sp.current_playback()
    assert playback is not None
    assert playback["is_playing"] is True
    assert playback["item"]["uri"].startswith("spotify:track:")
    assert playback["device"]["name"] == "Streaming PC"
    current = sp.current_user_playing_track()
    assert current["item"]["uri"] == playback["item"]["uri"]


def test_pause_play_next_previous(sp: spotipy.Spotify, sim: httpx.Client) -> None:
    first = snapshot(sim)["track_uri"]
    sp.pause_playback()
    assert snapshot(sim)["is_playing"] is False
    sp.start_playback()
    assert snapshot(sim)["is_playing"] is True
    sp.next_track()
    second = snapshot(sim)["track_uri"]
    assert second != first
    sp.previous_track()
    # Just after a skip, "previous" goes back to the previous track, as in Spotify.
    assert snapshot(sim)["track_uri"] == first


def test_seek_volume_shuffle_repeat(sp: spotipy.Spotify, sim: httpx.Client) -> None:
    sp.seek_track(61_000)
    assert 61_000 <= snapshot(sim)["progress_ms"] < 63_000
    sp.volume(23)
    assert snapshot(sim)["volume_percent"] == 23
    sp.shuffle(True)
    assert snapshot(sim)["shuffle"] is True
    sp.repeat("track")
    assert snapshot(sim)["repeat"] == "track"
    state = sp.current_playback()
    assert (state["shuffle_state"], state["repeat_state"]) == (True, "track")
    assert state["device"]["volume_percent"] == 23


def test_play_tracks_and_context(sp: spotipy.Spotify, sim: httpx.Client) -> None:
    found = sp.search("a", limit=5, type="track")["tracks"]["items"]
    assert len(found) == 5
    sp.start_playback(uris=[found[2]["uri"]])
    assert snapshot(sim)["track_uri"] == found[2]["uri"]

    playlist_uri = f"spotify:playlist:{DEMO_STREAM_PLAYLIST_ID}"
    items = sp.playlist_items(DEMO_STREAM_PLAYLIST_ID, limit=5)["items"]
    sp.start_playback(context_uri=playlist_uri, offset={"position": 3}, position_ms=5_000)
    state = sp.current_playback()
    assert state["context"]["uri"] == playlist_uri
    fourth = items[3].get("item") or items[3].get("track")
    assert state["item"]["uri"] == fourth["uri"]


def test_queue_and_devices(sp: spotipy.Spotify, sim: httpx.Client) -> None:
    track = sp.search("the", limit=1, type="track")["tracks"]["items"][0]
    sp.add_to_queue(track["uri"])
    queue = sp.queue()
    assert queue["queue"][0]["uri"] == track["uri"]
    assert len(queue["queue"]) <= 20

    devices = sp.devices()["devices"]
    assert {device["id"] for device in devices} >= {DEMO_PHONE_ID}
    sp.transfer_playback(DEMO_PHONE_ID, force_play=True)
    assert snapshot(sim)["device_id"] == DEMO_PHONE_ID
    active = [device for device in sp.devices()["devices"] if device["is_active"]]
    assert [device["id"] for device in active] == [DEMO_PHONE_ID]


def test_playlists_lifecycle(sp: spotipy.Spotify) -> None:
    owned = sp.current_user_playlists(limit=50)
    names = {playlist["name"] for playlist in owned["items"]}
    assert {"Stream Vibes", "Top Picks"} <= names

    created = sp.current_user_playlist_create("Raid Train", public=False)
    playlist_id = created["id"]
    tracks = [t["uri"] for t in sp.search("a", limit=3, type="track")["tracks"]["items"]]
    assert len(tracks) == 3
    assert sp.playlist_add_items(playlist_id, tracks)["snapshot_id"]
    sp.playlist_change_details(playlist_id, name="Raid Train (edited)")
    fetched = sp.playlist(playlist_id)
    assert fetched["name"] == "Raid Train (edited)"
    listed = [
        (entry.get("item") or entry.get("track"))["uri"]
        for entry in sp.playlist_items(playlist_id)["items"]
    ]
    assert listed == tracks

    sp.playlist_remove_all_occurrences_of_items(playlist_id, tracks[:1])
    remaining = [
        (entry.get("item") or entry.get("track"))["uri"]
        for entry in sp.playlist_items(playlist_id)["items"]
    ]
    assert remaining == tracks[1:]

    sp.current_user_unfollow_playlist(CURATOR_LOFI_PLAYLIST_ID)
    sp.current_user_unfollow_playlist(playlist_id)
    after = {playlist["id"] for playlist in sp.current_user_playlists(limit=50)["items"]}
    assert playlist_id not in after
    assert CURATOR_LOFI_PLAYLIST_ID not in after


def test_search_pages(sp: spotipy.Spotify) -> None:
    first = sp.search("a", limit=10, offset=0, type="track")["tracks"]
    second = sp.search("a", limit=10, offset=10, type="track")["tracks"]
    assert first["total"] > 20
    overlap = {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}
    assert not overlap


def test_player_errors_reach_spotipy_with_their_reason(sp: spotipy.Spotify) -> None:
    with pytest.raises(spotipy.SpotifyException) as caught:
        sp.volume(50, device_id=DEMO_SPEAKER_ID)
    assert caught.value.http_status == 403
    assert caught.value.reason in {"VOLUME_CONTROL_DISALLOW", "DEVICE_NOT_CONTROLLABLE"}

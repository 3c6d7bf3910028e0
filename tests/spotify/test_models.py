"""The models parse real Spotify responses and the awkward shapes Spotify is known to send."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tunedeck.spotify.models import (
    AlbumRef,
    Device,
    Devices,
    Episode,
    Paging,
    Playback,
    Playlist,
    PlaylistItem,
    Queue,
    SimplifiedPlaylist,
    SnapshotId,
    Track,
    TrackSearch,
    User,
)

from .fixtures import fixtures_dir, load

# Every Web API response among the fixtures, with the model that reads it.
WEB_API_FIXTURES: dict[str, type[BaseModel]] = {
    "AddItemsToPlaylistRequest.json": SnapshotId,
    "CreatePlaylistRequest.json": Playlist,
    "GetInformationAboutUsersCurrentPlaybackRequest.json": Playback,
    "GetListOfCurrentUsersPlaylistsRequest.json": Paging[SimplifiedPlaylist],
    "GetPlaylistRequest.json": Playlist,
    "GetPlaylistsItemsRequest.json": Paging[PlaylistItem],
    "GetTheUsersQueueRequest.json": Queue,
    "GetUsersAvailableDevices.json": Devices,
    "GetUsersCurrentlyPlayingTrackRequest.json": Playback,
    "RemoveItemsFromPlaylistRequest.json": SnapshotId,
    "SearchTracksRequest.json": TrackSearch,
}
# Accounts-service answers: read by the OAuth helpers (test_oauth_fixtures.py).
ACCOUNTS_FIXTURES = {
    "AuthorizationCode.json",
    "AuthorizationCodePKCERefresh.json",
    "AuthorizationCodeRefresh.json",
    "auth-invalid-client.json",
}


def test_every_fixture_is_covered() -> None:
    names = {path.name for path in fixtures_dir().glob("*.json")}
    assert names, "no fixtures found"
    assert names == set(WEB_API_FIXTURES) | ACCOUNTS_FIXTURES


@pytest.mark.parametrize(("name", "model"), sorted(WEB_API_FIXTURES.items()))
def test_fixture_parses(name: str, model: type[BaseModel]) -> None:
    parsed = model.model_validate(load(name))
    assert isinstance(parsed, model)


def test_playback_fixture_fields() -> None:
    playback = Playback.model_validate(load("GetInformationAboutUsersCurrentPlaybackRequest.json"))
    assert playback.is_playing is True
    assert playback.progress_ms == 69937
    assert playback.context is None
    assert playback.repeat_state == "off"
    assert playback.device is not None
    assert playback.device.name == "My fridge"
    assert playback.device.volume_percent == 100
    track = playback.item
    assert isinstance(track, Track)
    assert track.name == "Dancing Queen"
    assert track.artist_names == ["ABBA"]
    assert track.artists_text == "ABBA"
    assert track.album_name == "Arrival"
    assert track.duration_ms == 230400
    assert track.url == "https://open.spotify.com/track/01iyCAUm8EvOFqVWYJ3dVX"
    assert track.album is not None
    assert track.album.image_url() == (
        "https://i.scdn.co/image/1cb3d4e9b45c0526655b712e8e7a9154a0367b42"
    )
    assert track.album.image_url(largest=False) == (
        "https://i.scdn.co/image/99340df6a34261b78cec4fb0e4ac4d6dfccb43cd"
    )
    assert playback.actions.allows("pausing")
    assert not playback.actions.allows("resuming")


def test_currently_playing_fixture_has_no_device() -> None:
    playback = Playback.model_validate(load("GetUsersCurrentlyPlayingTrackRequest.json"))
    assert playback.device is None
    assert playback.is_playing is False
    assert isinstance(playback.item, Track)
    assert not playback.actions.allows("toggling_shuffle")


def test_queue_fixture_mixes_tracks_and_episodes() -> None:
    queue = Queue.model_validate(load("GetTheUsersQueueRequest.json"))
    assert len(queue.queue) == 20
    kinds = {type(item) for item in queue.queue}
    assert kinds == {Track, Episode}
    episode = next(item for item in queue.queue if isinstance(item, Episode))
    assert episode.name == "AUSGABE VIERUNDSIEBZIG"
    assert episode.show is not None
    assert episode.artist_names == [episode.show.publisher or episode.show.name]
    assert episode.image_url() is not None


def test_playlists_fixture_counts_from_tracks_ref() -> None:
    page = Paging[SimplifiedPlaylist].model_validate(
        load("GetListOfCurrentUsersPlaylistsRequest.json")
    )
    assert [(p.name, p.total_items) for p in page.items] == [
        ("Wizzlers Big Playlist", 30),
        ("Another Playlist", 58),
    ]
    assert page.items[0].owner is not None
    assert page.items[0].owner.id == "wizzler"
    assert page.total == 9


def test_playlist_fixture_reads_tracks_as_items() -> None:
    playlist = Playlist.model_validate(load("GetPlaylistRequest.json"))
    assert playlist.public is None  # Spotify sends null here
    assert playlist.total_items == 105
    assert playlist.items is not None
    first = playlist.items.items[0]
    assert isinstance(first.item, Track)
    assert first.item.name == "I'm Not The Only One - Radio Edit"
    assert first.added_by is not None
    assert first.added_by.id == "spotify"
    assert (
        playlist.image_url() == "https://i.scdn.co/image/68b6a65573a55095e9c0c0c33a274b18e0422736"
    )


def test_playlist_items_fixture() -> None:
    page = Paging[PlaylistItem].model_validate(load("GetPlaylistsItemsRequest.json"))
    assert len(page.items) == 2
    assert isinstance(page.items[0].item, Track)
    assert page.items[0].item.artist_names == ["Zion & Lennox", "J Balvin"]
    assert page.items[1].item is None  # this captured entry has no track at all
    assert page.items[0].added_at is not None
    assert page.items[0].added_at.year == 2016


def test_search_fixture() -> None:
    search = TrackSearch.model_validate(load("SearchTracksRequest.json"))
    assert len(search.tracks.items) == 10
    assert search.tracks.items[0].name == "Supermassive Black Hole"
    assert search.tracks.items[0].artist_names == ["Muse"]


def test_devices_fixture() -> None:
    devices = Devices.model_validate(load("GetUsersAvailableDevices.json")).devices
    assert [d.name for d in devices] == ["My fridge", "My Smartphone"]
    assert devices[1].supports_volume is False


# ---- hand-written variants -----------------------------------------------------------


def _playback_with(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(
        load("GetInformationAboutUsersCurrentPlaybackRequest.json")
    )
    data.update(changes)
    return data


def _episode() -> dict[str, Any]:
    queue = load("GetTheUsersQueueRequest.json")
    episode: dict[str, Any] = next(i for i in queue["queue"] if i["type"] == "episode")
    return episode


def _track() -> dict[str, Any]:
    track: dict[str, Any] = load("GetInformationAboutUsersCurrentPlaybackRequest.json")["item"]
    return track


LOCAL_TRACK: dict[str, Any] = {
    "album": {
        "album_type": None,
        "artists": [],
        "available_markets": [],
        "external_urls": {},
        "href": None,
        "id": None,
        "images": [],
        "name": "",
        "release_date": None,
        "release_date_precision": None,
        "type": "album",
        "uri": None,
    },
    "artists": [
        {
            "external_urls": {},
            "href": None,
            "id": None,
            "name": "Home Band",
            "type": "artist",
            "uri": None,
        }
    ],
    "available_markets": [],
    "disc_number": 0,
    "duration_ms": 183000,
    "explicit": False,
    "external_ids": {},
    "external_urls": {},
    "href": None,
    "id": None,
    "is_local": True,
    "name": "Garage Demo",
    "popularity": 0,
    "preview_url": None,
    "track_number": 0,
    "type": "track",
    "uri": "spotify:local:Home+Band::Garage+Demo:183",
}


def test_ad_playing_has_null_item() -> None:
    playback = Playback.model_validate(
        _playback_with(item=None, currently_playing_type="ad", actions=None)
    )
    assert playback.item is None
    assert playback.currently_playing_type == "ad"
    assert playback.actions.allows("pausing")


def test_private_session_null_item_and_context() -> None:
    data = _playback_with(item=None, context=None, progress_ms=None)
    data["device"]["is_private_session"] = True
    playback = Playback.model_validate(data)
    assert playback.item is None
    assert playback.progress_ms is None
    assert playback.device is not None
    assert playback.device.is_private_session


def test_episode_as_item() -> None:
    playback = Playback.model_validate(
        _playback_with(item=_episode(), currently_playing_type="episode")
    )
    assert isinstance(playback.item, Episode)
    assert playback.item.duration_ms == 3349080
    assert playback.item.album_name == playback.item.show.name if playback.item.show else False


def test_context_is_read() -> None:
    context = {
        "type": "playlist",
        "href": "https://api.spotify.com/v1/playlists/37i9dQZF1DXcBWIGoYBM5M",
        "external_urls": {"spotify": "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M"},
        "uri": "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M",
    }
    playback = Playback.model_validate(_playback_with(context=context, repeat_state="context"))
    assert playback.context is not None
    assert playback.context.uri == "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M"
    assert playback.repeat_state == "context"


def test_unknown_item_type_reads_as_none() -> None:
    playback = Playback.model_validate(
        _playback_with(item={"type": "chapter", "name": "One", "uri": "spotify:chapter:x"})
    )
    assert playback.item is None


def test_item_without_type_is_inferred() -> None:
    track = _track()
    del track["type"]
    episode = _episode()
    del episode["type"]
    queue = Queue.model_validate({"currently_playing": track, "queue": [episode, None]})
    assert isinstance(queue.currently_playing, Track)
    assert [type(i) for i in queue.queue] == [Episode]


def test_empty_queue() -> None:
    queue = Queue.model_validate({"currently_playing": None, "queue": []})
    assert queue.currently_playing is None
    assert queue.queue == []


def test_local_file_with_null_ids() -> None:
    track = Track.model_validate(LOCAL_TRACK)
    assert track.id is None
    assert track.is_local
    assert track.artist_names == ["Home Band"]
    assert track.artists[0].id is None
    assert track.album is not None
    assert track.album.id is None
    assert track.image_url() is None
    entry = PlaylistItem.model_validate(
        {
            "added_at": "2020-01-01T00:00:00Z",
            "added_by": None,
            "is_local": True,
            "track": LOCAL_TRACK,
        }
    )
    assert entry.is_local
    assert isinstance(entry.item, Track)
    assert entry.item.uri.startswith("spotify:local:")


def test_device_with_null_id_and_volume() -> None:
    device = Device.model_validate(
        {
            "id": None,
            "is_active": True,
            "is_private_session": False,
            "is_restricted": True,
            "name": "Living room",
            "type": "Speaker",
            "volume_percent": None,
        }
    )
    assert device.id is None
    assert device.volume_percent is None
    assert device.is_restricted
    playback = Playback.model_validate(_playback_with(device=device.model_dump()))
    assert playback.device is not None
    assert playback.device.id is None


def test_playlist_item_under_item_or_track() -> None:
    new = PlaylistItem.model_validate({"added_at": None, "is_local": False, "item": _track()})
    old = PlaylistItem.model_validate({"added_at": None, "is_local": False, "track": _track()})
    both = PlaylistItem.model_validate({"item": _track(), "track": _episode()})
    gone = PlaylistItem.model_validate({"item": None, "track": None})
    assert new.item == old.item
    assert isinstance(new.item, Track)
    assert isinstance(both.item, Track)  # item wins over the deprecated track
    assert gone.item is None


def test_playlist_items_under_items_or_tracks() -> None:
    data = load("GetPlaylistRequest.json")
    renamed = {k: v for k, v in data.items() if k != "tracks"}
    renamed["items"] = {
        **data["tracks"],
        "items": [
            {k if k != "track" else "item": v for k, v in entry.items()}
            for entry in data["tracks"]["items"]
        ],
    }
    old = Playlist.model_validate(data)
    new = Playlist.model_validate(renamed)
    assert old.items == new.items
    assert new.total_items == 105
    summary_old = SimplifiedPlaylist.model_validate(
        {
            "id": "p1",
            "name": "P",
            "uri": "spotify:playlist:p1",
            "tracks": {"href": None, "total": 7},
        }
    )
    summary_new = SimplifiedPlaylist.model_validate(
        {"id": "p1", "name": "P", "uri": "spotify:playlist:p1", "items": {"href": None, "total": 7}}
    )
    assert summary_old.total_items == summary_new.total_items == 7


def test_lenient_on_extras_and_nulls() -> None:
    playlist = SimplifiedPlaylist.model_validate(
        {
            "id": "p1",
            "name": "P",
            "uri": "spotify:playlist:p1",
            "images": None,
            "external_urls": None,
            "description": None,
            "public": None,
            "brand_new_field": {"nested": [1, 2]},
        }
    )
    assert playlist.images == []
    assert playlist.image_url() is None
    assert playlist.total_items == 0
    user = User.model_validate({"id": "demo", "display_name": None, "product": "premium"})
    assert user.is_premium
    page = Paging[Track].model_validate({"items": [None, _track()], "total": 2, "limit": 2})
    assert len(page.items) == 1


def test_strict_where_the_product_relies() -> None:
    track = _track()
    del track["name"]
    with pytest.raises(ValidationError):
        Track.model_validate(track)
    with pytest.raises(ValidationError):
        Device.model_validate({"id": "d", "type": "Computer"})  # no name
    with pytest.raises(ValidationError):
        User.model_validate({"display_name": "No id"})
    with pytest.raises(ValidationError):
        Playback.model_validate(_playback_with(repeat_state="sometimes"))


def test_album_image_unknown_sizes() -> None:
    album = AlbumRef.model_validate(
        {"name": "A", "images": [{"url": "small", "height": 64, "width": 64}, {"url": "big"}]}
    )
    assert album.image_url() == "big"
    assert album.image_url(largest=False) == "small"

"""Every client operation against the Spotify simulator over loopback HTTP, with the
effect checked on the simulator's side (its control API), not just the client's answer."""

from __future__ import annotations

import pytest

from tunedeck.simulator.catalog import Track as CatalogTrack
from tunedeck.simulator.catalog_builder import build_catalog
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.models import Episode, Track

from .conftest import MakeClient, Simulator

DESKTOP = "d89c0f19f785650b208b647181167d4db1fd091c"
PHONE = "5884f603298e76b3f3351387ff2f7da4a06df065"
SPEAKER = "91760315e2ff473137c4bedfc6dc03870940d223"
STREAM_PLAYLIST = "en5Gm1iJFuXGSiFf3HOcpD"
CHILL_PLAYLIST = "qGseNKNt7Sfdibxkb7jXjG"
CURATOR_TOP = "1eI2IMpsAS7b9kEUnOBgOX"


async def _track_uris(make_client: MakeClient, count: int) -> list[str]:
    """Distinct catalog track uris, found through the client's own search."""
    client, _ = make_client()
    uris: list[str] = []
    while len(uris) < count:
        found = await client.search_tracks("e", limit=50, offset=len(uris))
        assert found, "catalog search ran dry"
        uris.extend(track.uri for track in found)
    return uris[:count]


# ---- reading --------------------------------------------------------------------------


async def test_playback_matches_the_simulator(sim: Simulator, make_client: MakeClient) -> None:
    client, tokens = make_client()
    playback = await client.playback()
    state = await sim.playback()
    assert playback is not None
    assert playback.is_playing is True
    assert playback.device is not None
    assert playback.device.id == DESKTOP == state["device_id"]
    assert isinstance(playback.item, Track)
    assert playback.item.uri == state["track_uri"]
    assert playback.context is not None
    assert playback.context.uri == f"spotify:playlist:{STREAM_PLAYLIST}" == state["context_uri"]
    assert playback.progress_ms is not None
    assert abs(playback.progress_ms - state["progress_ms"]) < 5_000
    assert playback.item.artist_names
    assert playback.item.image_url() is not None
    assert tokens.calls == 1
    assert await sim.requests("GET /v1/me/player") == 1


async def test_playback_without_device_is_none(sim: Simulator, make_client: MakeClient) -> None:
    await sim.app_action("demo", action="disconnect")
    client, _ = make_client()
    assert await client.playback() is None


async def test_currently_playing(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    current = await client.currently_playing()
    state = await sim.playback()
    assert current is not None
    assert isinstance(current.item, Track)
    assert current.item.uri == state["track_uri"]
    assert current.device is None
    assert await sim.requests("GET /v1/me/player/currently-playing") == 1


async def test_queue(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    queue = await client.queue()
    state = await sim.playback()
    assert isinstance(queue.currently_playing, Track)
    assert queue.currently_playing.uri == state["track_uri"]
    assert [item.uri for item in queue.queue] == state["upcoming"][: len(queue.queue)]
    assert all(isinstance(item, Track | Episode) for item in queue.queue)
    assert queue.queue


async def test_devices(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    devices = await client.devices()
    state = await sim.playback()
    assert [(d.id, d.name, d.is_active, d.is_restricted) for d in devices] == [
        (d["id"], d["name"], d["is_active"], d["is_restricted"]) for d in state["devices"]
    ]
    speaker = next(d for d in devices if d.id == SPEAKER)
    assert speaker.supports_volume is False


async def test_current_user(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    me = await client.current_user()
    assert me.id == "demo"
    assert me.display_name == "Demo Streamer"
    assert me.is_premium
    free_client, _ = make_client("free")
    assert (await free_client.current_user()).is_premium is False


async def test_my_playlists_one_page_or_all(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    expected = [p["id"] for p in await sim.playlists("demo")]
    first = await client.my_playlists(limit=2)
    assert len(first) == 2
    assert await sim.requests("GET /v1/me/playlists") == 1
    everything = await client.my_playlists(limit=2, all_pages=True)
    assert sorted(p.id for p in everything) == sorted(expected)
    assert len(everything) == len(expected) == 5
    assert await sim.requests("GET /v1/me/playlists") == 1 + 3  # pages of 2, 2, 1
    stream = next(p for p in everything if p.id == STREAM_PLAYLIST)
    assert stream.name == "Stream Vibes"
    assert stream.total_items == 30
    assert stream.owner is not None
    assert stream.owner.id == "demo"


async def test_playlist_and_items(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    truth = next(p for p in await sim.playlists("demo") if p["id"] == STREAM_PLAYLIST)
    playlist = await client.playlist(STREAM_PLAYLIST)
    assert playlist.name == "Stream Vibes"
    assert playlist.total_items == 30
    assert playlist.snapshot_id == truth["snapshot_id"]
    page = await client.playlist_items(STREAM_PLAYLIST, limit=10, offset=5)
    assert [entry.item.uri for entry in page if entry.item] == truth["track_uris"][5:15]
    everything = await client.playlist_items(STREAM_PLAYLIST, limit=10, all_pages=True)
    assert [entry.item.uri for entry in everything if entry.item] == truth["track_uris"]
    assert all(entry.added_at is not None for entry in everything)
    assert await sim.requests("GET /v1/playlists/{playlist_id}/items") == 1 + 3


async def test_search_tracks_default_limit(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    tracks = await client.search_tracks("e")
    assert len(tracks) == 20
    assert all("e" in (t.name + t.artists_text + (t.album_name or "")).lower() for t in tracks)
    assert await sim.requests("GET /v1/search") == 1
    later = await client.search_tracks("e", limit=5, offset=20)
    assert not {t.uri for t in later} & {t.uri for t in tracks}


def _region_locked() -> CatalogTrack:
    """A track of the simulator's catalog that its users' market (US) cannot play."""
    config = SimulatorConfig()
    catalog = build_catalog(config.seed, config.catalog_size)
    return next(v.track for v in catalog.versions if v.kind == "region_locked")


async def test_one_track_with_and_without_market(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    locked = _region_locked()
    anywhere = await client.track(locked.id)
    assert (anywhere.uri, anywhere.name) == (locked.uri, locked.name)
    assert anywhere.available_markets == list(locked.available_markets)
    assert anywhere.is_playable is None
    here = await client.track(locked.id, market="from_token")
    assert here.is_playable is False
    assert here.restrictions is not None
    assert here.restrictions.reason == "market"
    there = await client.track(locked.id, market=locked.available_markets[0])
    assert there.is_playable is True
    assert there.restrictions is None
    log = [entry["query"] for entry in await sim.log() if entry["path"].startswith("/v1/tracks/")]
    assert log == [{}, {"market": "from_token"}, {"market": locked.available_markets[0]}]
    with pytest.raises(SpotifyError) as missing:
        await client.track("0000000000000000000000")
    assert missing.value.status == 404


async def test_search_tracks_in_a_market(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    locked = _region_locked()
    found = await client.search_tracks(locked.name, limit=10, market="from_token")
    assert [t.is_playable for t in found if t.uri == locked.uri] == [False]
    assert all(t.is_playable is not None for t in found)
    queries = [entry["query"] for entry in await sim.log() if entry["path"] == "/v1/search"]
    assert [query.get("market") for query in queries] == ["from_token"]
    plain = await client.search_tracks(locked.name, limit=10)
    assert all(t.is_playable is None and t.available_markets for t in plain)


# ---- playback commands ----------------------------------------------------------------


async def test_play_track_uris(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    uris = await _track_uris(make_client, 3)
    await client.play(uris=uris, position_ms=10_000)
    state = await sim.playback()
    assert state["track_uri"] == uris[0]
    assert state["is_playing"] is True
    assert state["progress_ms"] >= 10_000
    assert state["upcoming"][:2] == uris[1:]


async def test_play_context_with_offset_on_device(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    truth = next(p for p in await sim.playlists("demo") if p["id"] == CHILL_PLAYLIST)
    await client.play(
        context_uri=f"spotify:playlist:{CHILL_PLAYLIST}", offset_position=3, device_id=PHONE
    )
    state = await sim.playback()
    assert state["context_uri"] == f"spotify:playlist:{CHILL_PLAYLIST}"
    assert state["track_uri"] == truth["track_uris"][3]
    assert state["device_id"] == PHONE
    await client.play(
        context_uri=f"spotify:playlist:{CHILL_PLAYLIST}", offset_uri=truth["track_uris"][7]
    )
    assert (await sim.playback())["track_uri"] == truth["track_uris"][7]


async def test_play_refuses_contradictory_arguments(make_client: MakeClient) -> None:
    client, _ = make_client()
    with pytest.raises(ValueError, match="uris or context_uri, not both"):
        await client.play(uris=["spotify:track:x"], context_uri="spotify:album:y")
    with pytest.raises(ValueError, match="offset_position or offset_uri, not both"):
        await client.play(context_uri="spotify:album:y", offset_position=1, offset_uri="x")


async def test_pause_and_resume(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    await client.pause()
    assert (await sim.playback())["is_playing"] is False
    await client.play()
    assert (await sim.playback())["is_playing"] is True


async def test_next_and_previous(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    before = await sim.playback()
    await client.next()
    after_next = await sim.playback()
    assert after_next["track_uri"] == before["upcoming"][0]
    await client.previous()
    assert (await sim.playback())["track_uri"] == before["track_uri"]
    assert await sim.requests("POST /v1/me/player/next") == 1
    assert await sim.requests("POST /v1/me/player/previous") == 1


async def test_seek(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    await client.pause()
    await client.seek(61_000)
    assert (await sim.playback())["progress_ms"] == 61_000
    with pytest.raises(ValueError, match="negative"):
        await client.seek(-1)


async def test_volume(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    await client.set_volume(23)
    assert (await sim.playback())["volume_percent"] == 23
    await client.set_volume(77, device_id=DESKTOP)
    assert (await sim.playback())["volume_percent"] == 77
    with pytest.raises(ValueError, match="between 0 and 100"):
        await client.set_volume(101)


async def test_shuffle_and_repeat(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    await client.set_shuffle(True)
    assert (await sim.playback())["shuffle"] is True
    await client.set_shuffle(False)
    assert (await sim.playback())["shuffle"] is False
    for mode in ("track", "context", "off"):
        await client.set_repeat(mode)
        assert (await sim.playback())["repeat"] == mode
    playback = await client.playback()
    assert playback is not None
    assert playback.repeat_state == "off"
    assert playback.shuffle_state is False


async def test_add_to_queue(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    (uri,) = await _track_uris(make_client, 1)
    await client.add_to_queue(uri)
    state = await sim.playback()
    assert state["queue"][0] == uri
    queue = await client.queue()
    assert queue.queue[0].uri == uri


async def test_transfer_playback(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    await client.pause()
    await client.transfer_playback(PHONE)
    state = await sim.playback()
    assert state["device_id"] == PHONE
    assert state["is_playing"] is False  # play=False keeps the state
    await client.transfer_playback(DESKTOP, play=True)
    state = await sim.playback()
    assert state["device_id"] == DESKTOP
    assert state["is_playing"] is True


async def test_player_reasons(sim: Simulator, make_client: MakeClient) -> None:
    free, _ = make_client("free")
    with pytest.raises(SpotifyError) as premium:
        await free.play()
    assert premium.value.status == 403
    assert premium.value.reason == "PREMIUM_REQUIRED"
    client, _ = make_client()
    with pytest.raises(SpotifyError) as restricted:
        await client.transfer_playback(SPEAKER)
    assert restricted.value.reason == "DEVICE_NOT_CONTROLLABLE"
    await sim.app_action("demo", action="disconnect")
    with pytest.raises(SpotifyError) as inactive:
        await client.pause()
    assert inactive.value.status == 404
    assert inactive.value.reason == "NO_ACTIVE_DEVICE"
    assert "No active device" in inactive.value.message


# ---- playlists ------------------------------------------------------------------------


async def test_create_rename_and_delete_playlist(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    created = await client.create_playlist("Raid Night", public=False, description="For raids")
    assert created.name == "Raid Night"
    assert created.public is False
    assert created.total_items == 0
    truth = {p["id"]: p for p in await sim.playlists("demo")}
    assert truth[created.id]["name"] == "Raid Night"
    assert truth[created.id]["description"] == "For raids"
    assert await sim.requests("POST /v1/me/playlists") == 1

    await client.rename_playlist(created.id, "Raid Night (old)")
    assert (await client.playlist(created.id)).name == "Raid Night (old)"

    await client.delete_playlist(created.id)
    truth = {p["id"]: p for p in await sim.playlists("demo")}
    assert truth[created.id]["in_library"] is False  # unfollowed: the owner keeps it
    assert created.id not in {p.id for p in await client.my_playlists(all_pages=True)}
    assert await sim.requests("DELETE /v1/me/library") == 1
    assert await sim.requests("DELETE /v1/playlists/{playlist_id}/followers") == 0


async def test_unfollow_a_followed_playlist(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    assert CURATOR_TOP in {p["id"] for p in await sim.playlists("demo")}
    await client.delete_playlist(CURATOR_TOP)
    assert CURATOR_TOP not in {p["id"] for p in await sim.playlists("demo")}
    assert CURATOR_TOP not in {p.id for p in await client.my_playlists(all_pages=True)}


async def test_add_and_remove_items(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    uris = await _track_uris(make_client, 4)
    created = await client.create_playlist("Queue Ideas")
    snapshot = await client.add_playlist_items(created.id, uris[:3])
    assert snapshot
    snapshot2 = await client.add_playlist_items(created.id, [uris[3]], position=0)
    assert snapshot2 != snapshot
    truth = next(p for p in await sim.playlists("demo") if p["id"] == created.id)
    assert truth["track_uris"] == [uris[3], *uris[:3]]
    assert truth["snapshot_id"] == snapshot2

    removed = await client.remove_playlist_items(
        created.id, [uris[0], uris[3]], snapshot_id=snapshot2
    )
    truth = next(p for p in await sim.playlists("demo") if p["id"] == created.id)
    assert truth["track_uris"] == uris[1:3]
    assert truth["snapshot_id"] == removed
    items = await client.playlist_items(created.id)
    assert [entry.item.uri for entry in items if entry.item] == uris[1:3]
    with pytest.raises(ValueError, match="empty"):
        await client.add_playlist_items(created.id, [])


async def test_add_250_items_in_three_ordered_chunks(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    uris = await _track_uris(make_client, 250)
    assert len(set(uris)) == 250
    created = await client.create_playlist("Big One")
    await client.add_playlist_items(created.id, uris)
    assert await sim.requests("POST /v1/playlists/{playlist_id}/items") == 3
    truth = next(p for p in await sim.playlists("demo") if p["id"] == created.id)
    assert truth["track_uris"] == uris
    fetched = await client.playlist_items(created.id, all_pages=True)
    assert [entry.item.uri for entry in fetched if entry.item] == uris
    # Inserting at a position keeps the chunks contiguous and in order too.
    await client.add_playlist_items(created.id, uris[:150], position=10)
    truth = next(p for p in await sim.playlists("demo") if p["id"] == created.id)
    assert truth["track_uris"] == uris[:10] + uris[:150] + uris[10:]
    # Removing 150 distinct uris takes two requests of at most 100.
    await client.remove_playlist_items(created.id, uris[:150])
    assert await sim.requests("DELETE /v1/playlists/{playlist_id}/items") == 2
    truth = next(p for p in await sim.playlists("demo") if p["id"] == created.id)
    assert truth["track_uris"] == uris[150:]

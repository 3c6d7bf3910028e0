"""The request feeder's edges, end to end against the simulator: nothing playing (the
request starts at once and the streamer's music resumes after it), no active device,
Spotify refusing a track, the streamer skipping or emptying the queue in the app."""

from __future__ import annotations

from tests.realtime.support import eventually
from tests.requests.feeder_support import (
    FeederRuntime,
    bus_url,
    catalog_track,
    connected_account,
    database,
    database_url,
    feeder_runtime,
    nothing_in_play,
    plays,
    queue_adds,
    queue_request,
    request_events,
    seen_near,
    sim,
    sim_server,
    state_of,
    time_left_s,
    wait_state,
)
from tests.requests.test_feeder import in_spotify_queue
from tests.support.simulator import Sim
from tunedeck.kit.db import Database
from tunedeck.requests.models import SongRequest

__all__ = [
    "bus_url",
    "database",
    "database_url",
    "feeder_runtime",
    "nothing_in_play",
    "sim",
    "sim_server",
]


async def test_a_request_starts_when_nothing_plays_and_the_music_resumes_after_it(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    assert sim.app_action(action="pause").is_success
    paused = sim.playback()
    track = catalog_track(sim, avoid={str(paused["track_uri"]), *paused["upcoming"]})
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime() as runtime:
        await wait_state(database, request, "playing")
        assert plays(sim) == [{"uris": [track.uri]}]
        assert queue_adds(sim) == []
        sim.advance(time_left_s(sim) - 2)
        await seen_near(runtime, account, track.uri, left_ms=3000)
        sim.advance(3)
        await wait_state(database, request, "played")

        async def resumed() -> bool:
            now = sim.playback()
            return now["track_uri"] == paused["track_uri"] and bool(now["is_playing"])

        await eventually(resumed, what="the streamer's playlist resumed")
    now = sim.playback()
    assert now["context_uri"] == paused["context_uri"]
    assert int(now["progress_ms"]) >= int(paused["progress_ms"])
    assert plays(sim)[1] == {
        "context_uri": paused["context_uri"],
        "offset": {"uri": paused["track_uri"]},
        "position_ms": paused["progress_ms"],
    }


async def test_no_active_device_keeps_the_request_queued_until_one_is_back(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    device = str(sim.playback()["device_id"])
    assert sim.app_action(action="disconnect").is_success
    track = catalog_track(sim, avoid=set())
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime() as runtime:
        assert runtime.feeder is not None
        feeder = runtime.feeder

        async def waiting() -> bool:
            return "no Spotify device" in (feeder.status_of(account) or "")

        await eventually(waiting, what="a status saying why the request waits")
        assert await state_of(database, request) == "queued"
        assert queue_adds(sim) == []
        assert plays(sim) == []
        # The device is back, paused: the request starts there.
        assert sim.app_action(action="transfer", device_id=device).is_success
        await wait_state(database, request, "playing")
        assert feeder.status_of(account) is None
    assert sim.playback()["track_uri"] == track.uri


async def test_a_track_spotify_refuses_is_rejected_and_the_next_one_goes(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    avoid = {str(before["track_uri"]), *before["upcoming"]}
    refused = catalog_track(sim, avoid=avoid, index=0)
    playable = catalog_track(sim, avoid=avoid, index=1)
    sim.knobs(refused_uris=[refused.uri])
    first = await queue_request(database, account, refused, "first", rank=1)
    second = await queue_request(database, account, playable, "second", rank=2)
    async with feeder_runtime():
        sim.advance(time_left_s(sim) - 3)
        await wait_state(database, first, "rejected")
        await in_spotify_queue(sim, playable.uri)
        await wait_state(database, second, "sent")
    async with database.session() as session:
        row = await session.get(SongRequest, first)
        assert row is not None
        assert row.reason == "not_available"
        assert row.reason_text == "that song isn't available in the streamer's country"
    assert queue_adds(sim) == [refused.uri, playable.uri]
    assert await request_events(database, account) == [("request:rejected", str(first))]


async def test_skipping_in_the_app_after_sent_plays_the_request_next(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    track = catalog_track(sim, avoid={str(before["track_uri"]), *before["upcoming"]})
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime():
        sim.advance(time_left_s(sim) - 3)
        await in_spotify_queue(sim, track.uri)
        assert sim.app_action(action="next").is_success
        await wait_state(database, request, "playing")
    assert queue_adds(sim) == [track.uri]


async def test_a_request_no_longer_in_spotifys_queue_is_handed_over_again(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    upcoming = list(before["upcoming"])
    track = catalog_track(sim, avoid={str(before["track_uri"]), *upcoming})
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime() as runtime:
        sim.advance(time_left_s(sim) - 3)
        await in_spotify_queue(sim, track.uri)
        # The streamer empties the queue in the app, then the track ends: not the request.
        assert sim.app_action(action="clear_queue").is_success
        sim.advance(4)
        await wait_state(database, request, "queued")
        queue_reads = [r for r in sim.requests() if r["path"] == "/v1/me/player/queue"]
        assert [r["method"] for r in queue_reads] == ["POST", "GET"]
        assert sim.playback()["track_uri"] == upcoming[0]
        # Handed over again before the end of the track that came on instead.
        sim.advance(time_left_s(sim) - 3)
        await in_spotify_queue(sim, track.uri)
        sim.advance(4)
        await wait_state(database, request, "playing")
        sim.advance(time_left_s(sim) - 2)
        await seen_near(runtime, account, track.uri, left_ms=3000)
        sim.advance(3)
        await wait_state(database, request, "played")
    assert queue_adds(sim) == [track.uri, track.uri]
    assert await request_events(database, account) == [("request:played", str(request))]

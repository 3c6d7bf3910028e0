"""The request feeder end to end: a polling runtime against the simulator over HTTP, on the
simulator's clock (moved forward by the tests: a track's end comes when the test says).

What is asserted is what Spotify (the simulator) was asked and shows, and the states in
the database; never how long anything took.
"""

from __future__ import annotations

from tests.realtime.support import channel, eventually, track_uri
from tests.requests.feeder_support import (
    FeederRuntime,
    bus_url,
    catalog_track,
    connected_account,
    database,
    database_url,
    feeder_runtime,
    nothing_in_play,
    queue_adds,
    queue_request,
    request_events,
    seen_near,
    set_state,
    sim,
    sim_server,
    state_of,
    time_left_s,
    wait_state,
)
from tests.support.simulator import Sim
from tunedeck.kit.db import Database

__all__ = [
    "bus_url",
    "database",
    "database_url",
    "feeder_runtime",
    "nothing_in_play",
    "sim",
    "sim_server",
]


async def test_a_request_plays_just_in_time_then_the_playlist_goes_on(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    playing, upcoming = str(before["track_uri"]), list(before["upcoming"])
    track = catalog_track(sim, avoid={playing, *upcoming})
    request = await queue_request(database, account, track, "Zoë", rank=1)
    async with feeder_runtime() as runtime:
        assert runtime.feeder is not None
        assert runtime.poller is not None
        # Followed for a while, far from the end of the track: Spotify gets nothing yet.
        await seen_near(runtime, account, playing, left_ms=int(before["duration_ms"]))

        async def polled_twice_more() -> bool:
            poller = runtime.poller.account(account) if runtime.poller else None
            return poller is not None and poller.polls >= 3

        await eventually(polled_twice_more, what="a few polls")
        assert sim.playback()["queue"] == []
        assert queue_adds(sim) == []
        assert await state_of(database, request) == "queued"

        # A few seconds before the end of the track, the request goes to Spotify's queue.
        sim.advance(time_left_s(sim) - 3)
        await wait_state(database, request, "sent")
        await in_spotify_queue(sim, track.uri)

        # The track ends: the request plays, with its requester in now_playing.
        async with channel(runtime.bus, account) as published:
            sim.advance(4)
            await wait_state(database, request, "playing")
            assert sim.playback()["track_uri"] == track.uri
            shown = await published.wait_for(
                lambda m: m.get("type") == "now_playing" and track_uri(m) == track.uri,
                what="the request in now_playing",
            )
            assert shown["now_playing"]["requested_by"] == "Zoë"
            assert all(
                m["now_playing"].get("requested_by") is None
                for m in published.now_playing()
                if track_uri(m) != track.uri
            )

        # It plays to its end: played, and the playlist goes on where it was.
        sim.advance(time_left_s(sim) - 2)
        await seen_near(runtime, account, track.uri, left_ms=3000)
        sim.advance(3)
        await wait_state(database, request, "played")
        assert sim.playback()["track_uri"] == upcoming[0]
        assert queue_adds(sim) == [track.uri]
        assert runtime.feeder.handed_over == 1
    assert await request_events(database, account) == [("request:played", str(request))]


async def test_a_request_skipped_in_the_app_ends_skipped(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    playing, upcoming = str(before["track_uri"]), list(before["upcoming"])
    track = catalog_track(sim, avoid={playing, *upcoming})
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime():
        sim.advance(time_left_s(sim) - 3)
        await in_spotify_queue(sim, track.uri)
        sim.advance(4)
        await wait_state(database, request, "playing")
        assert sim.app_action(action="next").is_success
        await wait_state(database, request, "skipped")
        assert sim.playback()["track_uri"] == upcoming[0]
    assert await request_events(database, account) == [("request:skipped", str(request))]


async def test_a_removed_request_never_reaches_spotify(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    avoid = {str(before["track_uri"]), *before["upcoming"]}
    first = catalog_track(sim, avoid=avoid, index=0)
    second = catalog_track(sim, avoid=avoid, index=1)
    removed = await queue_request(database, account, first, "first", rank=1)
    kept = await queue_request(database, account, second, "second", rank=2)
    async with feeder_runtime():
        await set_state(database, removed, "removed")
        sim.advance(time_left_s(sim) - 3)
        await wait_state(database, kept, "sent")
        await in_spotify_queue(sim, second.uri)
    assert queue_adds(sim) == [second.uri]
    assert first.uri not in str(sim.requests())
    assert await state_of(database, removed) == "removed"


async def test_a_restart_between_sent_and_playing_plays_it_once(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    upcoming = list(before["upcoming"])
    track = catalog_track(sim, avoid={str(before["track_uri"]), *upcoming})
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime():
        sim.advance(time_left_s(sim) - 3)
        await wait_state(database, request, "sent")
        await in_spotify_queue(sim, track.uri)
    # A new process: it sees the request sent, and does not send it again.
    async with feeder_runtime() as runtime:
        assert runtime.feeder is not None
        sim.advance(4)
        await wait_state(database, request, "playing")
        sim.advance(time_left_s(sim) - 2)
        await seen_near(runtime, account, track.uri, left_ms=3000)
        sim.advance(3)
        await wait_state(database, request, "played")
        assert runtime.feeder.handed_over == 0
    assert queue_adds(sim) == [track.uri]
    assert sim.playback()["track_uri"] == upcoming[0]


async def test_two_processes_hand_a_request_over_once(
    database: Database, sim: Sim, feeder_runtime: FeederRuntime
) -> None:
    account = await connected_account(database, sim)
    before = sim.playback()
    track = catalog_track(sim, avoid={str(before["track_uri"]), *before["upcoming"]})
    request = await queue_request(database, account, track, "viewer", rank=1)
    async with feeder_runtime() as one, feeder_runtime() as two:
        assert one.poller is not None
        assert two.poller is not None
        assert one.feeder is not None
        assert two.feeder is not None

        async def polled() -> bool:
            return account in (one.poller.accounts | two.poller.accounts)  # type: ignore[union-attr]

        await eventually(polled, what="the account polled by one process")
        sim.advance(time_left_s(sim) - 3)
        await wait_state(database, request, "sent")
        await in_spotify_queue(sim, track.uri)
        sim.advance(4)
        await wait_state(database, request, "playing")
        assert one.feeder.handed_over + two.feeder.handed_over == 1
    assert queue_adds(sim) == [track.uri]


async def in_spotify_queue(sim: Sim, uri: str) -> None:
    """Wait until the simulator's queue is ``[uri]`` (the feeder's call arrived)."""

    async def queued() -> bool:
        return list(sim.playback()["queue"]) == [uri]

    await eventually(queued, what=f"{uri} in Spotify's queue")

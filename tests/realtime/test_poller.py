"""The poller against the simulator (over loopback) on SQLite + in-process bus and on
PostgreSQL + Redis: what changes is published as ``now_playing``, the end of a track and
a command through TuneDeck get polls of their own, rate limits and lost authorizations
stop the polls they should, and each account is polled by one poller.

Nothing here measures a duration: cadences are either so fast that every change is seen
(FAST) or so slow that no regular poll happens during the test (SLOW), and what the
poller did is read from the simulator's record of requests and from the channel."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.realtime.conftest import (
    SLOW,
    MakePolling,
    Polling,
    connect,
    new_account,
    realtime_settings,
)
from tests.realtime.recorder import Recorder
from tests.realtime.support import channel, eventually, track_uri
from tests.support import accounts
from tests.support.app import asgi_client
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.kit.db import Database
from tunedeck.runtime import app_runtime
from tunedeck.simulator.defaults import DEMO_PHONE_ID


def playing(uri: str) -> Any:
    return lambda m: m["type"] == "now_playing" and track_uri(m) == uri


def now_playing(**expected: Any) -> Any:
    def match(message: dict[str, Any]) -> bool:
        if message["type"] != "now_playing" or message["now_playing"] is None:
            return False
        state = message["now_playing"]
        return all(predicate(state) for predicate in expected.values())

    return match


async def watched(polling: Polling, account: uuid.UUID) -> None:
    """A client of the account connects; wait until this poller polls it."""
    polling.watch.connected(account)

    async def polled() -> bool:
        poller = polling.poller.account(account)
        return poller is not None and poller.polls > 0

    await eventually(polled, what="the account polled")


async def test_changes_made_in_the_spotify_app_are_published(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    async with make_polling() as polling, channel(polling.bus, account) as feed:
        await watched(polling, account)
        first = await feed.wait_for(playing(sim.playback()["track_uri"]), what="first snapshot")
        assert first["now_playing"]["is_playing"] is True
        await feed.wait_for(
            lambda m: m["type"] == "status" and m["status"] == "polling", what="status polling"
        )

        skipped = sim.app_action(action="next").json()["track_uri"]
        await feed.wait_for(playing(skipped), what="the skip")

        mark = len(feed.messages)
        sim.app_action(action="pause").raise_for_status()
        await feed.wait_for(
            now_playing(paused=lambda s: s["is_playing"] is False), what="the pause", after=mark
        )

        mark = len(feed.messages)
        sim.app_action(action="seek", position_ms=90_000).raise_for_status()
        await feed.wait_for(
            now_playing(seek=lambda s: abs(s["progress_ms"] - 90_000) < 1000),
            what="the seek",
            after=mark,
        )

        mark = len(feed.messages)
        sim.app_action(action="volume", volume_percent=17).raise_for_status()
        await feed.wait_for(
            now_playing(volume=lambda s: s["volume_percent"] == 17), what="the volume", after=mark
        )

        mark = len(feed.messages)
        sim.app_action(action="transfer", device_id=DEMO_PHONE_ID).raise_for_status()
        await feed.wait_for(
            now_playing(device=lambda s: s["device"]["id"] == DEMO_PHONE_ID),
            what="the device",
            after=mark,
        )

        mark = len(feed.messages)
        sim.app_action(action="shuffle", state=True).raise_for_status()
        await feed.wait_for(
            now_playing(shuffle=lambda s: s["shuffle"] is True), what="shuffle", after=mark
        )
        sim.app_action(action="repeat", state="track").raise_for_status()
        await feed.wait_for(
            now_playing(repeat=lambda s: s["repeat"] == "track"), what="repeat", after=mark
        )


async def test_nothing_is_published_while_nothing_changes(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    account = await new_account(database)
    await connect(database, sim, account, "free")  # paused: nothing moves
    async with make_polling() as polling, channel(polling.bus, account) as feed:
        await watched(polling, account)
        await feed.wait_for(lambda m: m["type"] == "now_playing", what="first snapshot")
        poller = polling.poller.account(account)
        assert poller is not None
        published = len(feed.now_playing())
        polls = poller.polls

        async def ten_more_polls() -> bool:
            return poller.polls >= polls + 10

        await eventually(ten_more_polls, what="ten more polls")
        assert len(feed.now_playing()) == published


async def test_nothing_playing_is_published_as_null_with_a_status(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    sim.app_action(action="disconnect").raise_for_status()
    async with make_polling() as polling, channel(polling.bus, account) as feed:
        await watched(polling, account)
        first = await feed.wait_for(lambda m: m["type"] == "now_playing", what="first snapshot")
        assert first["now_playing"] is None
        await feed.wait_for(
            lambda m: m["type"] == "status" and m["status"] == "no_active_device",
            what="no_active_device",
        )


async def test_a_natural_track_end_is_seen_by_the_end_of_track_poll(
    make_polling: MakePolling, database: Database, sim: Sim, recorder: Recorder
) -> None:
    account = await new_account(database)
    token = (await connect(database, sim, account))["access_token"]
    before = sim.playback()
    # The track ends two seconds from now (the simulator's clock moved through its API).
    sim.advance((before["duration_ms"] - before["progress_ms"]) / 1000 - 2)
    async with make_polling(**SLOW) as polling, channel(polling.bus, account) as feed:
        await watched(polling, account)
        await feed.wait_for(playing(before["track_uri"]), what="the ending track")
        # No regular poll comes within the test (SLOW): only the end-of-track poll can see
        # the next track.
        changed = await feed.wait_for(
            lambda m: (
                m["type"] == "now_playing" and track_uri(m) not in (None, before["track_uri"])
            ),
            what="the next track",
        )
        assert track_uri(changed) == sim.playback()["track_uri"]
        poller = polling.poller.account(account)
        assert poller is not None
        assert poller.polls == 2
        assert len(recorder.polls(token)) == 2


async def test_a_command_through_tunedeck_gets_a_burst_and_poll_results_feed_the_cache(
    database: Database,
    database_url: str,
    bus_url: str | None,
    sim: Sim,
    recorder: Recorder,
    tmp_path: Path,
) -> None:
    account = await new_account(database)
    key = await accounts.create_key(database, account, "bot", ["spotify:read", "spotify:playback"])
    headers = {"Authorization": f"Bearer {key.key}"}
    await connect(database, sim, account)
    # serve, polling in-process: no regular poll within the test (SLOW), and poll results
    # stay fresh in the now-playing store for the whole test.
    settings = realtime_settings(
        database_url, bus_url, tmp_path, sim, **SLOW, player_state_cache_seconds=600
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
        runtime = app_runtime(app)
        poller = runtime.poller
        assert poller is not None
        async with channel(runtime.bus, account) as feed:
            runtime.watch.connected(account)
            first = await feed.wait_for(lambda m: m["type"] == "now_playing", what="first poll")
            account_poller = poller.account(account)
            assert account_poller is not None
            assert account_poller.polls == 1

            # The poll refreshed the state cache: reading the state right after asks
            # Spotify for the three other parts only.
            state = await client.get("/v1/spotify/state", headers=headers)
            assert state.status_code == 200, state.text
            assert state.json()["now_playing"]["track"]["uri"] == track_uri(first)
            assert len(recorder.polls()) == 1
            assert {r.path for r in recorder.snapshot()} >= {
                "/v1/me/player/queue",
                "/v1/me/player/devices",
            }

            answer = await client.post(
                "/v1/spotify/playback", json={"action": "next"}, headers=headers
            )
            assert answer.status_code == 200, answer.text
            skipped_to = sim.playback()["track_uri"]
            # The command's event reaches the poller through the channel: a burst of two
            # polls (+0.3 s, +1.5 s), the first of which sees the new track.
            await feed.wait_for(playing(skipped_to), what="the skip, seen by the burst")

            async def burst_done() -> bool:
                return account_poller.polls == 3

            await eventually(burst_done, what="the two polls of the burst")
            reconciles = poller.reconciles

            async def a_while() -> bool:
                return poller.reconciles >= reconciles + 20

            await eventually(a_while, what="twenty reconcile passes")
            assert account_poller.polls == 3  # and nothing more: the burst is over


async def test_every_playback_shape_is_published(
    make_polling: MakePolling, database: Database, sim: Sim
) -> None:
    """Episodes, ads, local files, private sessions: each shape the client reads."""
    account = await new_account(database)
    await connect(database, sim, account)
    async with make_polling() as polling, channel(polling.bus, account) as feed:
        await watched(polling, account)
        await feed.wait_for(playing(sim.playback()["track_uri"]), what="first snapshot")

        episode = sim.play_episode()["track_uri"]
        shown = await feed.wait_for(playing(episode), what="the episode")
        assert shown["now_playing"]["track"]["type"] == "episode"

        mark = len(feed.messages)
        sim.start_ad(seconds=600)
        ad = await feed.wait_for(
            lambda m: (
                m["type"] == "now_playing"
                and m["now_playing"] is not None
                and m["now_playing"]["track"] is None
            ),
            what="the ad",
            after=mark,
        )
        assert ad["now_playing"]["is_playing"] is True
        sim.end_ad()
        await feed.wait_for(playing(episode), what="the episode again", after=mark)

        local = sim.play_local_file()["track_uri"]
        assert local.startswith("spotify:local:")
        await feed.wait_for(playing(local), what="the local file")

        mark = len(feed.messages)
        sim.private_session(True)
        private = await feed.wait_for(
            lambda m: m["type"] == "now_playing" and track_uri(m) is None,
            what="the private session",
            after=mark,
        )
        assert private["now_playing"] is None or private["now_playing"]["track"] is None

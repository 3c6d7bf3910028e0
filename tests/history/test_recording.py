"""Plays recorded end to end: the simulator over loopback, an app polling it in-process
with the recorder on, on SQLite and on PostgreSQL. Each scenario gives exactly the plays
expected; nothing here measures a duration (the simulator's clock is moved through its
control API, and what must happen is waited for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.history.support import open_rows, play_change, plays_of, running_app
from tests.realtime.conftest import connect, new_account
from tests.realtime.support import eventually
from tests.support import accounts
from tests.support.simulator import Sim
from tunedeck.kit.db import Database
from tunedeck.realtime.poller import Poller


async def test_skips_pauses_and_natural_ends_give_one_play_each(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    account = await new_account(database)
    key = await accounts.create_key(
        database, account, "mod bot", ["spotify:read", "spotify:playback"]
    )
    headers = {"Authorization": f"Bearer {key.key}"}
    await connect(database, sim, account)
    first = sim.playback()["track_uri"]
    async with running_app(database_url, bus_url, tmp_path, sim, account) as app:
        await app.feed.wait_for(play_change("started", first), what="the first play")

        # A pause and a resume (in the Spotify app) do not split the play.
        sim.app_action(action="pause").raise_for_status()
        await app.feed.wait_for(
            lambda m: m["type"] == "now_playing" and m["now_playing"]["is_playing"] is False,
            what="the pause",
        )
        sim.app_action(action="play").raise_for_status()

        # A skip in the Spotify app: skipped, by nobody TuneDeck knows.
        second = sim.app_action(action="next").json()["track_uri"]
        ended = await app.feed.wait_for(play_change("ended", first), what="the app's skip")
        assert ended["play"]["end_reason"] == "skipped"
        assert ended["play"]["skipped_by"] is None
        await app.feed.wait_for(play_change("started", second), what="the second play")

        # A skip through TuneDeck: skipped by the key that did it.
        answer = await app.client.post(
            "/v1/spotify/playback", json={"action": "next"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        third = sim.playback()["track_uri"]
        ended = await app.feed.wait_for(play_change("ended", second), what="TuneDeck's skip")
        assert ended["play"]["end_reason"] == "skipped"
        assert ended["play"]["skipped_by"] == "mod bot"
        await app.feed.wait_for(play_change("started", third), what="the third play")

        # The third track reaches its end: natural.
        now = sim.playback()
        sim.advance((now["duration_ms"] - now["progress_ms"]) / 1000 - 1.5)
        ended = await app.feed.wait_for(play_change("ended", third), what="the natural end")
        assert ended["play"]["end_reason"] == "natural"
        fourth = sim.playback()["track_uri"]
        await app.feed.wait_for(play_change("started", fourth), what="the fourth play")

    plays = await plays_of(database, account)
    assert [p.item_uri for p in plays] == [first, second, third, fourth]
    assert [p.end_reason for p in plays] == ["skipped", "skipped", "natural", None]
    assert all(not p.ended_estimated for p in plays[:3])
    assert all(p.ended_at is not None for p in plays[:3])
    assert plays[3].ended_at is None
    assert [r.play_id for r in await open_rows(database, account)] == [plays[3].id]


async def test_a_streams_songs_are_kept_with_no_overlay_or_dashboard_open(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    """No live client watches the account: it is polled (and its plays made) while a
    stream is open, and no longer once the stream stops."""
    account = await new_account(database)
    key = await accounts.create_key(database, account, "streamer", ["streams:manage"])
    headers = {"Authorization": f"Bearer {key.key}"}
    await connect(database, sim, account)
    first = sim.playback()["track_uri"]
    async with running_app(database_url, bus_url, tmp_path, sim, account, watched=False) as app:
        poller = app.runtime.poller
        assert poller is not None
        await full_reconcile(poller)
        assert poller.account(account) is None  # nothing open, nothing watching: not polled

        body = {"title": "no overlay"}
        started = await app.client.post("/v1/streams", json=body, headers=headers)
        assert started.status_code == 201, started.text
        stream_id = started.json()["id"]
        await app.feed.wait_for(play_change("started", first), what="the stream's first play")
        [play] = await plays_of(database, account)
        assert (play.item_uri, str(play.stream_id)) == (first, stream_id)

        assert poller.account(account) is not None

        stopped = await app.client.post(f"/v1/streams/{stream_id}/stop", headers=headers)
        assert stopped.status_code == 200, stopped.text
        assert account not in await app.runtime.watch.watched()
        await full_reconcile(poller)
        assert poller.account(account) is None


async def full_reconcile(poller: Poller) -> None:
    """Until the poller has made a whole pass over the watched set begun after now (it
    counts a pass as it starts: two more mean the first of them has ended)."""
    target = poller.reconciles + 2

    async def passed() -> bool:
        return poller.reconciles >= target

    await eventually(passed, what="a reconcile pass")


async def test_a_restart_mid_track_continues_the_play(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    account = await new_account(database)
    await connect(database, sim, account)
    track = sim.playback()["track_uri"]
    async with running_app(database_url, bus_url, tmp_path, sim, account) as app:
        await app.feed.wait_for(play_change("started", track), what="the play")
    # The process is gone; another one starts and polls the same track, further on.
    async with running_app(database_url, bus_url, tmp_path, sim, account) as app:
        recorder = app.runtime.plays
        assert recorder is not None

        async def read_again() -> bool:
            return recorder.stats.readings >= 3

        await eventually(read_again, what="the new process's readings")
        next_uri = sim.app_action(action="next").json()["track_uri"]
        ended = await app.feed.wait_for(play_change("ended", track), what="the skip")
        assert ended["play"]["end_reason"] == "skipped"
        await app.feed.wait_for(play_change("started", next_uri), what="the next play")
    plays = await plays_of(database, account)
    assert [p.item_uri for p in plays] == [track, next_uri]


async def test_a_worker_takeover_continues_the_play(
    database: Database, database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path
) -> None:
    """Two processes; the one polling the account stops; the other takes it over."""
    account = await new_account(database)
    await connect(database, sim, account)
    track = sim.playback()["track_uri"]
    shared: dict[str, Any] = {"redis_namespace": f"takeover-{account.hex[:8]}"}
    async with (
        running_app(database_url, bus_url, tmp_path / "a", sim, account, **shared) as one,
        running_app(database_url, bus_url, tmp_path / "b", sim, account, **shared) as two,
    ):
        # Two apps on SQLite have a bus each: what they recorded is read from the database.
        async def recorded(count: int) -> bool:
            return len(await plays_of(database, account)) == count

        await eventually(lambda: recorded(1), what="the play")
        pollers = [p for app in (one, two) if (p := app.runtime.poller) is not None]
        assert len(pollers) == 2

        async def polled_by_one() -> bool:
            return sum(p.account(account) is not None for p in pollers) == 1

        await eventually(polled_by_one, what="one process polling")
        holder = 0 if pollers[0].account(account) is not None else 1
        other = pollers[1 - holder]
        await pollers[holder].stop()

        async def taken_over() -> bool:
            poller = other.account(account)
            return poller is not None and poller.polls >= 2

        await eventually(taken_over, what="the takeover")
        next_uri = sim.app_action(action="next").json()["track_uri"]
        await eventually(lambda: recorded(2), what="the next play")
    plays = await plays_of(database, account)
    assert [p.item_uri for p in plays] == [track, next_uri]
    assert plays[0].end_reason == "skipped"
    assert plays[1].ended_at is None

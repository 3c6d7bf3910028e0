"""A new live client's first ``now_playing`` (realtime/snapshot.py), from the now-playing
store: what the hub last heard on the channel while it listens, else a fresh reading,
else one Spotify read however many clients of the account connect at once."""

from __future__ import annotations

import asyncio
import uuid
from typing import cast

from tunedeck.events.bus import InProcessBus
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.hub import Hub
from tunedeck.realtime.messages import NowPlaying, StatusKind
from tunedeck.realtime.snapshot import Snapshots
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import SpotifyError
from tunedeck.spotify.models import Playback

ACCOUNT = uuid.uuid4()


class Spotify:
    """The account's Spotify, answering ``playback()`` once released; counts the reads."""

    def __init__(self, *, failure: Exception | None = None) -> None:
        self.reads = 0
        self.failure = failure
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def client_for(self, account_id: uuid.UUID) -> SpotifyClient:
        return cast(SpotifyClient, self)

    async def playback(self) -> Playback | None:
        self.reads += 1
        self.asked.set()
        await self.release.wait()
        if self.failure is not None:
            raise self.failure
        return Playback(is_playing=True, progress_ms=1234)


async def test_many_clients_connecting_at_once_cost_one_read() -> None:
    store = NowPlayingStore(60.0)
    spotify = Spotify()
    snapshots = Snapshots(store, spotify)
    clients = [asyncio.create_task(snapshots.now_playing(ACCOUNT)) for _ in range(30)]
    await spotify.asked.wait()
    spotify.release.set()
    sent = await asyncio.gather(*clients)
    assert spotify.reads == 1
    assert {s.now_playing.now_playing.progress_ms for s in sent if s.now_playing.now_playing} == {
        1234
    }
    # The read is a reading of the store: the next client costs nothing.
    await snapshots.now_playing(ACCOUNT)
    assert spotify.reads == 1


async def test_a_fresh_reading_costs_no_read() -> None:
    store = NowPlayingStore(60.0)
    spotify = Spotify()
    loop = asyncio.get_running_loop()
    store.record(ACCOUNT, Playback(is_playing=False, progress_ms=42), read_at=loop.time())
    snapshot = await Snapshots(store, spotify).now_playing(ACCOUNT)
    assert snapshot.now_playing.now_playing is not None
    assert snapshot.now_playing.now_playing.progress_ms == 42
    assert spotify.reads == 0


async def test_what_the_hub_heard_wins_while_it_listens() -> None:
    store = NowPlayingStore(60.0)
    bus = InProcessBus()
    hub = Hub(bus, now_playing=store)
    spotify = Spotify()
    spotify.release.set()
    snapshots = Snapshots(store, spotify)
    heard = NowPlaying(now_playing=None, server_time=1_700_000_000_000).to_wire()
    with hub.connect(ACCOUNT, frozenset({"now_playing"})) as connection:
        message_id = await bus.publish(ACCOUNT, heard)
        assert (await connection.next()).id == message_id
        assert store.announced(ACCOUNT) == {**heard, "id": message_id}
        snapshot = await snapshots.now_playing(ACCOUNT)
        assert snapshot.now_playing == NowPlaying(
            id=message_id, now_playing=None, server_time=1_700_000_000_000
        )
        assert spotify.reads == 0
    # Nobody listens any more: what was heard may turn untrue, so it is not used.
    assert store.announced(ACCOUNT) is None
    snapshot = await snapshots.now_playing(ACCOUNT)
    assert spotify.reads == 1
    assert snapshot.now_playing.now_playing is not None


async def test_a_failed_read_still_answers_at_once_with_a_status() -> None:
    store = NowPlayingStore(60.0)
    spotify = Spotify(failure=SpotifyError(503, "Spotify is down"))
    spotify.release.set()
    snapshot = await Snapshots(store, spotify).now_playing(ACCOUNT)
    assert snapshot.now_playing.now_playing is None
    assert snapshot.status is not None
    assert snapshot.status.status is StatusKind.IDLE
    assert store.fresh(ACCOUNT) is None  # a failure is not a reading

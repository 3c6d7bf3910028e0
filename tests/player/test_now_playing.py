"""The now-playing store (player/now_playing.py): readings fresh for ``ttl``, an answer
read before an action refused, one Spotify read per account however many callers, the
channels' announcements while they are listened to, and observers told of each change.

Time is the store's clock, moved by the test: nothing here waits on a wall clock."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from tunedeck.player.now_playing import NowPlayingStore, Reading
from tunedeck.spotify.models import Playback

TTL = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def playback(progress_ms: int = 0) -> Playback:
    return Playback(is_playing=True, progress_ms=progress_ms)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> NowPlayingStore:
    return NowPlayingStore(TTL, clock=clock)


ACCOUNT = uuid.uuid4()
OTHER = uuid.uuid4()


async def test_a_reading_is_fresh_for_ttl_then_not(store: NowPlayingStore, clock: Clock) -> None:
    kept = store.record(ACCOUNT, playback(1000), read_at=clock())
    assert kept is not None
    assert store.fresh(ACCOUNT) is kept
    assert store.fresh(OTHER) is None
    clock.now += TTL - 0.01
    assert store.fresh(ACCOUNT) is kept
    clock.now += 0.01
    assert store.fresh(ACCOUNT) is None


async def test_an_answer_read_before_an_action_is_refused(
    store: NowPlayingStore, clock: Clock
) -> None:
    """A poll that left before the action and answers after it may show the old state."""
    left_at = clock()
    clock.now += 0.1
    store.invalidate(ACCOUNT)
    clock.now += 0.1
    assert store.record(ACCOUNT, playback(), read_at=left_at) is None
    assert store.fresh(ACCOUNT) is None
    # One that left after the action is true.
    assert store.record(ACCOUNT, playback(), read_at=clock()) is not None
    # Other accounts are not concerned.
    assert store.record(OTHER, playback(), read_at=left_at) is not None


async def test_an_action_forgets_what_was_known(store: NowPlayingStore, clock: Clock) -> None:
    store.record(ACCOUNT, playback(), read_at=clock())
    store.invalidate(ACCOUNT)
    assert store.fresh(ACCOUNT) is None


class Spotify:
    """Answers ``playback()`` once released; counts the reads."""

    def __init__(self) -> None:
        self.reads = 0
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def playback(self) -> Playback | None:
        self.reads += 1
        self.asked.set()
        number = self.reads
        await self.release.wait()
        return playback(number)


async def test_many_callers_at_once_cost_one_read(store: NowPlayingStore, clock: Clock) -> None:
    spotify = Spotify()
    callers = [asyncio.create_task(store.read(ACCOUNT, spotify.playback)) for _ in range(25)]
    await asyncio.sleep(0)
    spotify.release.set()
    readings = await asyncio.gather(*callers)
    assert spotify.reads == 1
    assert {r.playback.progress_ms for r in readings if r.playback} == {1}
    # Recorded: read again within ttl, no call; after it, one more.
    assert (await store.read(ACCOUNT, spotify.playback)).playback == readings[0].playback
    assert spotify.reads == 1
    clock.now += TTL
    await store.read(ACCOUNT, spotify.playback)
    assert spotify.reads == 2


async def test_a_read_in_flight_at_an_action_is_neither_joined_nor_kept(
    store: NowPlayingStore, clock: Clock
) -> None:
    spotify = Spotify()
    early = asyncio.create_task(store.read(ACCOUNT, spotify.playback))
    await spotify.asked.wait()  # the read has left when the action comes
    clock.now += 0.1
    store.invalidate(ACCOUNT)
    clock.now += 0.1
    late = asyncio.create_task(store.read(ACCOUNT, spotify.playback))
    await asyncio.sleep(0)
    spotify.release.set()
    first, second = await early, await late
    assert spotify.reads == 2  # the late caller did not get the pre-action read
    # Each caller got its own read; only the one begun after the action is kept.
    assert (first.playback, second.playback) == (playback(1), playback(2))
    fresh = store.fresh(ACCOUNT)
    assert fresh is not None
    assert fresh.playback == second.playback


async def test_a_failed_read_reaches_its_callers_and_is_not_kept(store: NowPlayingStore) -> None:
    reads = 0

    async def failing() -> Playback | None:
        nonlocal reads
        reads += 1
        raise TimeoutError("Spotify is slow")

    outcomes = await asyncio.gather(
        *(store.read(ACCOUNT, failing) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, TimeoutError) for o in outcomes)
    assert reads == 1
    assert store.fresh(ACCOUNT) is None
    with pytest.raises(TimeoutError):
        await store.read(ACCOUNT, failing)
    assert reads == 2


async def test_observers_hear_every_reading_and_every_action(
    store: NowPlayingStore, clock: Clock
) -> None:
    heard: list[tuple[uuid.UUID, Reading | None]] = []
    stop = store.observe(lambda account, reading: heard.append((account, reading)))
    first = store.record(ACCOUNT, playback(1), read_at=clock())
    store.invalidate(ACCOUNT)
    refused = store.record(ACCOUNT, playback(2), read_at=clock() - 1)
    second = store.record(OTHER, playback(3), read_at=clock())
    stop()
    store.record(ACCOUNT, playback(4), read_at=clock())
    assert refused is None  # refused: nothing to tell
    assert heard == [(ACCOUNT, first), (ACCOUNT, None), (OTHER, second)]


async def test_a_failing_observer_costs_the_writer_nothing(
    store: NowPlayingStore, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[Reading | None] = []

    def broken(account: uuid.UUID, reading: Reading | None) -> None:
        raise RuntimeError("a bug downstream")

    store.observe(broken)
    store.observe(lambda account, reading: heard.append(reading))
    with caplog.at_level(logging.ERROR, logger="tunedeck.player.now_playing"):
        kept = store.record(ACCOUNT, playback(), read_at=clock())
    assert kept is not None
    assert store.fresh(ACCOUNT) is kept
    assert heard == [kept]
    assert "a now-playing observer failed" in caplog.text


async def test_an_announcement_holds_while_its_channel_is_heard(
    store: NowPlayingStore, clock: Clock
) -> None:
    message = {"type": "now_playing", "id": 7, "now_playing": None, "server_time": 1}
    store.announce(ACCOUNT, message)
    clock.now += 3600  # however old: the poller publishes every change
    store.invalidate(ACCOUNT)  # an action: the poller will say what changed
    assert store.announced(ACCOUNT) == message
    assert store.announced(OTHER) is None
    store.stop_announcing(ACCOUNT)
    assert store.announced(ACCOUNT) is None

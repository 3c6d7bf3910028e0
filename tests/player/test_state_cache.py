"""The state cache (player/state.py) over the now-playing store: its now_playing part is
the store's (a fresh reading is not asked again; what a fetch reads is recorded there),
one fetch at a time per account, and an action in between keeps nothing stale."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.player.test_now_playing import Clock, playback
from tunedeck.player.now_playing import NowPlayingStore, Reading
from tunedeck.player.state import StateCache, StateParts

ACCOUNT = uuid.uuid4()
TTL = 2.0


class Fetches:
    """A state fetch held until ``release``; what each one was given, how many ran."""

    def __init__(self) -> None:
        self.given: list[Reading | None] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, known: Reading | None) -> StateParts:
        self.given.append(known)
        number = len(self.given)
        self.started.set()
        await self.release.wait()
        now_playing = known.playback if known else playback(number)
        return StateParts(now_playing=now_playing, queue=None, devices=[], playlists=[])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> NowPlayingStore:
    return NowPlayingStore(TTL, clock=clock)


async def test_a_fresh_reading_is_used_and_what_a_fetch_reads_is_recorded(
    store: NowPlayingStore, clock: Clock
) -> None:
    cache = StateCache(store)
    fetches = Fetches()
    fetches.release.set()
    polled = store.record(ACCOUNT, playback(500), read_at=clock())
    parts = await cache.get(ACCOUNT, fetches)
    assert fetches.given == [polled]
    assert parts.now_playing == playback(500)
    # Past the reading's ttl: the next fetch asks for now playing and records it.
    clock.now += TTL
    assert cache.fresh(ACCOUNT) is None  # as fresh as its oldest part
    parts = await cache.get(ACCOUNT, fetches)
    assert fetches.given[1:] == [None]
    fresh = store.fresh(ACCOUNT)
    assert fresh is not None
    assert fresh.playback == parts.now_playing == playback(2)


async def test_concurrent_callers_share_one_fetch_kept_for_ttl(
    store: NowPlayingStore, clock: Clock
) -> None:
    cache = StateCache(store)
    fetches = Fetches()
    callers = [asyncio.create_task(cache.get(ACCOUNT, fetches)) for _ in range(10)]
    await fetches.started.wait()
    fetches.release.set()
    answers = await asyncio.gather(*callers)
    assert len(fetches.given) == 1
    assert all(answer is answers[0] for answer in answers)
    assert await cache.get(ACCOUNT, fetches) is answers[0]
    clock.now += TTL
    await cache.get(ACCOUNT, fetches)
    assert len(fetches.given) == 2


async def test_an_action_during_a_fetch_keeps_nothing_of_it(
    store: NowPlayingStore, clock: Clock
) -> None:
    cache = StateCache(store)
    fetches = Fetches()
    early = asyncio.create_task(cache.get(ACCOUNT, fetches))
    await fetches.started.wait()
    clock.now += 0.1
    cache.invalidate(ACCOUNT)
    fetches.release.set()
    assert (await early).now_playing == playback(1)  # its caller is answered
    assert cache.fresh(ACCOUNT) is None
    assert store.fresh(ACCOUNT) is None
    clock.now += 0.1
    after = await cache.get(ACCOUNT, fetches)
    assert len(fetches.given) == 2
    assert after.now_playing == playback(2)


async def test_a_failed_fetch_is_not_kept(store: NowPlayingStore) -> None:
    cache = StateCache(store)
    calls = 0

    async def failing(known: Reading | None) -> StateParts:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bug, not a part unavailable")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="a bug"):
            await cache.get(ACCOUNT, failing)
    assert calls == 2
    assert cache.fresh(ACCOUNT) is None

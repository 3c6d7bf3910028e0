"""The bounded expiring cache and single flight that song request matching stands on."""

from __future__ import annotations

import asyncio

import pytest

from tunedeck.requests.cache import SingleFlight, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(capacity=10, ttl=600, clock=clock)
    cache.put("a", 1)
    clock.now = 599.9
    assert cache.get("a") == 1
    clock.now = 600.0
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(capacity=2, ttl=600, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_discard_and_clear() -> None:
    cache: TtlCache[tuple[str, str], int] = TtlCache(capacity=10, ttl=60, clock=Clock())
    cache.put(("one", "x"), 1)
    cache.put(("two", "x"), 2)
    cache.discard(lambda key: key[0] == "one")
    assert (cache.get(("one", "x")), cache.get(("two", "x"))) == (None, 2)
    cache.clear()
    assert len(cache) == 0


def test_capacity_and_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TtlCache(capacity=0, ttl=1)
    with pytest.raises(ValueError, match="positive"):
        TtlCache(capacity=1, ttl=0)


async def test_concurrent_callers_share_one_computation() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    waiters = [asyncio.ensure_future(flights.run("k", compute)) for _ in range(20)]
    await asyncio.sleep(0)
    assert len(flights) == 1
    release.set()
    assert await asyncio.gather(*waiters) == [42] * 20
    assert calls == 1
    assert len(flights) == 0
    assert await flights.run("k", compute) == 42
    assert calls == 2  # a flight that landed is not a cache


async def test_a_failure_reaches_every_waiter_and_is_not_kept() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def fail() -> int:
        await release.wait()
        raise RuntimeError("spotify said no")

    waiters = [asyncio.ensure_future(flights.run("k", fail)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(flights) == 0


async def test_a_caller_giving_up_leaves_the_flight_to_the_others() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def compute() -> int:
        await release.wait()
        return 7

    impatient = asyncio.ensure_future(flights.run("k", compute))
    patient = asyncio.ensure_future(flights.run("k", compute))
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await patient == 7
    assert impatient.cancelled()

"""Token buckets in memory and in Redis: the same arithmetic, on a clock the test moves.

Redis tests use the machine's Redis under a prefix of their own; the outage test stops
a redis-server of its own (never the shared one).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis_asyncio

from tests.support.redis_server import OwnRedis, own_redis
from tunedeck.kit import token_bucket
from tunedeck.kit.token_bucket import (
    Available,
    Bucket,
    BucketStore,
    MemoryBuckets,
    Rate,
    RedisBuckets,
    retry_after_header,
)

__all__ = ["own_redis"]

TEN_BURST_TWENTY = Rate(10, 20)


class Clock:
    """A wall clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MakeStore = Callable[[Clock], BucketStore]


@pytest.fixture(params=["memory", "redis"])
async def make_store(
    request: pytest.FixtureRequest,
) -> AsyncIterator[MakeStore]:
    """Stores of one kind on the test's clock; Redis ones share one fresh prefix."""
    prefix = f"test:limits:{uuid.uuid4().hex}:"
    stores: list[BucketStore] = []

    def make(clock: Clock) -> BucketStore:
        store: BucketStore
        if request.param == "memory":
            store = MemoryBuckets(clock=clock)
        else:
            url = str(request.getfixturevalue("redis_url"))
            store = RedisBuckets(url, prefix=prefix, clock=clock)
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


async def spend(store: BucketStore, buckets: list[Bucket], times: int) -> int:
    """How many of ``times`` requests were admitted."""
    admitted = 0
    for _ in range(times):
        admitted += (await store.take(buckets)).admitted
    return admitted


async def test_a_burst_then_the_rate(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock)
    key = [Bucket("k", TEN_BURST_TWENTY)]
    assert await spend(store, key, 25) == 20
    refused = await store.take(key)
    assert not refused.admitted
    assert refused.refused_by == 0
    assert refused.retry_after == pytest.approx(0.1, abs=0.002)
    # One token every 100 ms: exactly one more after 100 ms, ten more after a second.
    clock.advance(0.1)
    assert await spend(store, key, 3) == 1
    clock.advance(1.0)
    assert await spend(store, key, 15) == 10
    # Left alone, the bucket fills to its burst and no further.
    clock.advance(60)
    assert await spend(store, key, 25) == 20


async def test_a_refused_request_takes_from_no_bucket(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock)
    own = Bucket("own", Rate(1, 5))
    shared = Bucket("shared", Rate(1, 3))
    assert await spend(store, [own, shared], 3) == 3
    verdict = await store.take([own, shared])
    assert (verdict.admitted, verdict.refused_by) == (False, 1)
    assert verdict.retry_after == pytest.approx(1.0, abs=0.002)
    # The refusals took nothing from ``own``: it still has its two last tokens.
    assert await spend(store, [own, shared], 10) == 0
    assert await spend(store, [own], 3) == 2


async def test_available_tokens_are_read_without_taking_one(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock)
    bucket = Bucket("k", Rate(2, 3))
    assert await store.available(bucket) == Available(3)
    assert await spend(store, [bucket], 2) == 2
    assert await store.available(bucket) == Available(1)
    assert await store.available(bucket) == Available(1)  # reading took nothing
    assert await spend(store, [bucket], 1) == 1
    empty = await store.available(bucket)
    assert empty.tokens == 0
    assert empty.retry_after == pytest.approx(0.5, abs=0.002)
    verdict = await store.take([bucket])
    assert not verdict.admitted
    assert verdict.retry_after == pytest.approx(empty.retry_after)
    clock.advance(0.5)
    assert await store.available(bucket) == Available(1)
    clock.advance(60)
    assert await store.available(bucket) == Available(3)  # full, and no fuller


async def test_buckets_are_separate(make_store: MakeStore) -> None:
    store = make_store(Clock())
    one, two = Bucket("one", Rate(1, 2)), Bucket("two", Rate(1, 2))
    assert await spend(store, [one], 5) == 2
    assert await spend(store, [two], 5) == 2


async def test_the_longest_wait_names_the_bucket(make_store: MakeStore) -> None:
    store = make_store(Clock())
    fast, slow = Bucket("fast", Rate(10, 1)), Bucket("slow", Rate(0.5, 1))
    assert await spend(store, [fast, slow], 1) == 1
    verdict = await store.take([fast, slow])
    assert verdict.refused_by == 1
    assert verdict.retry_after == pytest.approx(2.0, abs=0.002)


async def test_stores_on_one_redis_share_their_buckets(make_store: MakeStore) -> None:
    clock = Clock()
    first, second = make_store(clock), make_store(clock)
    bucket = [Bucket("k", Rate(1, 4))]
    assert await spend(first, bucket, 2) == 2
    assert await spend(second, bucket, 3) == (2 if isinstance(second, RedisBuckets) else 3)


async def test_redis_keys_expire_once_full(redis_url: str) -> None:
    prefix = f"test:limits:{uuid.uuid4().hex}:"
    clock = Clock()
    store = RedisBuckets(redis_url, prefix=prefix, clock=clock)
    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        assert await spend(store, [Bucket("k", Rate(2, 4))], 3) == 3
        # Three tokens short of full at 2 tokens/s: full again (and forgotten) in 1.5 s.
        ttl = await client.pttl(prefix + "k")
        assert 1400 <= ttl <= 1500
    finally:
        await client.delete(prefix + "k")
        await client.aclose()
        await store.close()


async def test_memory_forgets_full_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_bucket, "MEMORY_PRUNE_THRESHOLD", 10)
    clock = Clock()
    store = MemoryBuckets(clock=clock)
    for n in range(10):
        await store.take([Bucket(f"k{n}", Rate(1, 5))])
    clock.advance(2)  # every bucket is full again
    await store.take([Bucket("new", Rate(1, 5))])
    assert len(store) == 1


def test_rates_need_a_rate_and_a_burst() -> None:
    for per_second, burst in ((0, 5), (-1, 5), (1, 0)):
        with pytest.raises(ValueError, match="per_second > 0 and burst >= 1"):
            Rate(per_second, burst)


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after_header(s) for s in (0.0, 0.001, 1.0, 1.2, 59.99)] == [1, 1, 1, 2, 60]


async def test_redis_down_fails_open_logged_once_and_recovers(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = RedisBuckets(own_redis.url, prefix="limits:", clock=clock, retry_seconds=1.0)
    bucket = [Bucket("k", Rate(1, 2))]

    async def taken(times: int) -> int:
        return await spend(store, bucket, times)

    try:
        assert await taken(3) == 2  # enforced while Redis answers
        own_redis.stop()
        with caplog.at_level(logging.INFO, logger=token_bucket.__name__):
            # Down: every request passes, counted; one warning however many requests.
            assert await taken(5) == 5
            clock.advance(1.5)  # past retry_seconds: Redis is tried again, still down
            assert await taken(5) == 5
            assert store.unchecked == 10
            assert store.failing_open
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1
            assert "Redis unreachable" in warnings[0].getMessage()

            own_redis.start()  # empty: the bucket starts full again
            clock.advance(1.5)
            assert await taken(3) == 2
            assert not store.failing_open
            assert store.unchecked == 10
            assert any("answers again" in r.getMessage() for r in caplog.records)
    finally:
        await store.close()

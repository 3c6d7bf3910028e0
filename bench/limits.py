"""What one rate-limit check (kit/token_bucket.py: a key's and an account's bucket)
costs a player call, against baselines measured in the same run.

- memory: ``MemoryBuckets.take`` of two buckets (one ``serve`` process, no Redis);
- redis: ``RedisBuckets.take`` of two buckets (one Lua script call), one at a time and
  from 50 concurrent callers; baseline: a Redis ``PING`` round trip on the same client
  settings (the least any Redis-backed check costs).

Uses the machine's Redis (``TUNEDECK_TEST_REDIS_URL`` or redis://127.0.0.1:6379/0)
under a fresh prefix; the buckets are generous and their keys expire within a second.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as redis_asyncio

from tunedeck.kit.token_bucket import Bucket, MemoryBuckets, Rate, RedisBuckets

REDIS_URL = os.environ.get("TUNEDECK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHECKS = 2000
CONCURRENT = 50
# Never refuses during the run: the cost measured is that of an admitted call.
GENEROUS = Rate(1_000_000, 1_000_000)


def buckets(n: int) -> list[Bucket]:
    account = f"{{acct{n % 20}}}"
    return [Bucket(f"{account}:key:{n % 100}:command", GENEROUS), Bucket(f"{account}:a", GENEROUS)]


async def timed(calls: int, call: Callable[[int], Awaitable[None]]) -> list[float]:
    samples = []
    for n in range(calls):
        started = time.perf_counter()
        await call(n)
        samples.append(time.perf_counter() - started)
    return samples


async def measure() -> dict[str, float]:
    memory = MemoryBuckets()
    shared = RedisBuckets(REDIS_URL, prefix=f"bench:limits:{uuid.uuid4().hex}:")
    ping_client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:

        async def memory_take(n: int) -> None:
            assert (await memory.take(buckets(n))).admitted

        async def redis_take(n: int) -> None:
            assert (await shared.take(buckets(n))).admitted

        async def ping(n: int) -> None:
            await ping_client.ping()

        await timed(200, redis_take)  # warm: connections, the script loaded
        await timed(200, ping)
        figures = {
            "memory": statistics.median(await timed(CHECKS, memory_take)),
            "ping": statistics.median(await timed(CHECKS, ping)),
            "redis": statistics.median(await timed(CHECKS, redis_take)),
        }

        async def concurrently(call: Callable[[int], Awaitable[None]]) -> float:
            """Calls per second from ``CONCURRENT`` callers at once."""

            async def caller(c: int) -> None:
                for n in range(CHECKS // CONCURRENT):
                    await call(c * 1000 + n)

            started = time.perf_counter()
            await asyncio.gather(*(caller(c) for c in range(CONCURRENT)))
            return CHECKS / (time.perf_counter() - started)

        await concurrently(redis_take)  # warm: every connection of the pools
        await concurrently(ping)
        figures["ping_concurrent_per_s"] = await concurrently(ping)
        figures["redis_concurrent_per_s"] = await concurrently(redis_take)
        assert shared.unchecked == 0, "Redis failed during the run"
        return figures
    finally:
        await ping_client.aclose()
        await shared.close()


def main() -> None:
    figures = asyncio.run(measure())
    ping = figures["ping"]
    print(f"  {'memory check (2 buckets)':<36} {figures['memory'] * 1e6:9.1f} us")
    print(f"  {'Redis PING round trip (baseline)':<36} {ping * 1e6:9.1f} us")
    print(
        f"  {'Redis check (2 buckets, Lua)':<36} {figures['redis'] * 1e6:9.1f} us"
        f"   = {figures['redis'] / ping:.2f} x PING"
    )
    ping_rate, rate = figures["ping_concurrent_per_s"], figures["redis_concurrent_per_s"]
    print(f"  {'PINGs, 50 concurrent callers':<36} {ping_rate:9.0f} /s")
    print(
        f"  {'Redis checks, 50 concurrent callers':<36} {rate:9.0f} /s"
        f"   = {rate / ping_rate:.2f} x PINGs"
    )


if __name__ == "__main__":
    main()

"""Token buckets (rate + burst), in memory or shared by every process through Redis.

A bucket of rate ``r`` and burst ``b`` holds at most ``b`` tokens and gains ``r`` per
second; a request takes one token or is refused, told how long until one is there. The
buckets are kept as GCRA (the generic cell rate algorithm, the token bucket written as
one number per bucket: the "theoretical arrival time" at which it would be full again),
so a bucket is one small Redis string that expires when the bucket is full.

Why not the ``limits`` package: its strategies (fixed window, moving window, sliding
window counter) each express "N per period", and a rate with a separate burst is not
one of them: a moving window of 20 per 2 s lets a burst of 20 through and then refuses
everything for the rest of the 2 s, where a bucket of 10/s with a burst of 20 serves
one request every 100 ms right after the burst. Its storages also read the wall clock
themselves (no clock to inject in tests), and its Redis moving window keeps a list of
N timestamps per key where GCRA keeps one number.

:meth:`BucketStore.take` checks several buckets at once (a key's and its account's) and
takes a token from each only when every one of them has one, so a refused request costs
nothing anywhere. Redis: one Lua script, atomic across processes. The buckets' time is
the callers' wall clock (``time.time``): processes on several machines agree on it to
NTP's few milliseconds, which only shifts a refill by as much.

:meth:`BucketStore.available` reads how many tokens a bucket holds without taking one:
for a caller that takes only once it knows a request counts (a sign-in is counted when it
fails), and must meanwhile know whether the bucket could pay for it.

If Redis cannot be reached, :class:`RedisBuckets` fails OPEN: the request is admitted
uncounted (``unchecked``), the outage is logged once, and Redis is not asked again for
``retry_seconds`` (so an unreachable server costs one timeout per interval, not one per
request). Limits protect a quota; they must not take the service down with Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

# A store prunes its full (forgotten) buckets when it holds more than this many.
MEMORY_PRUNE_THRESHOLD = 10_000


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_second`` tokens gained each second, at most ``burst`` held."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_second > 0 and burst >= 1, not {self}")

    @property
    def interval(self) -> float:
        """Seconds between two tokens."""
        return 1.0 / self.per_second

    def __str__(self) -> str:
        return f"{self.per_second:g}/s, burst {self.burst}"


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket: its name (unique in its store) and its rate."""

    key: str
    rate: Rate


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request was admitted; if not, which bucket refused it (its index in the
    buckets asked) and how many seconds until every bucket asked has a token again."""

    admitted: bool
    retry_after: float = 0.0
    refused_by: int | None = None


ADMITTED = Verdict(admitted=True)


@dataclass(frozen=True, slots=True)
class Available:
    """The tokens a bucket holds now and, when it holds none, the seconds until one."""

    tokens: int
    retry_after: float = 0.0


def _available(now: float, rate: Rate, tat: float) -> Available:
    """The tokens of a bucket of ``rate`` whose stored arrival time is ``tat``: ``n`` more
    takes are admitted while the debt (``tat`` past ``now``) plus ``n`` intervals is at
    most the burst's worth (the arithmetic of :func:`_verdict`)."""
    debt = max(0.0, tat - now)
    # A hair of tolerance: a debt of exactly k intervals leaves burst - k tokens.
    tokens = max(0, math.floor(rate.burst - debt / rate.interval + 1e-9))
    if tokens:
        return Available(tokens)
    return Available(0, retry_after=debt - (rate.burst - 1) * rate.interval)


def _verdict(
    now: float, rates: Sequence[Rate], tats: Sequence[float]
) -> tuple[Verdict, list[float]]:
    """GCRA over several buckets at ``now``, given each one's stored arrival time
    (``now`` or earlier when full): the verdict and, if admitted, the times to store."""
    new_tats: list[float] = []
    wait, refused_by = 0.0, None
    for index, (rate, stored) in enumerate(zip(rates, tats, strict=True)):
        new_tat = max(stored, now) + rate.interval
        # The request may go once the bucket, after taking it, is at most ``burst`` behind.
        allowed_at = new_tat - rate.burst * rate.interval
        if allowed_at > now and allowed_at - now > wait:
            wait, refused_by = allowed_at - now, index
        new_tats.append(new_tat)
    if refused_by is not None:
        return Verdict(admitted=False, retry_after=wait, refused_by=refused_by), []
    return ADMITTED, new_tats


class BucketStore(Protocol):
    """Where buckets live (this process's memory, or Redis for every process).
    ``unchecked``: requests admitted without a check (the store could not answer)."""

    unchecked: int

    async def take(self, buckets: Sequence[Bucket]) -> Verdict:
        """Take a token from each of ``buckets`` if every one has one; else none."""
        ...

    async def available(self, bucket: Bucket) -> Available:
        """How many tokens ``bucket`` holds now, taking none."""
        ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """This process's buckets (one process serves, or no Redis is configured).

    Atomic without a lock: :meth:`take` does not await between reading and writing.
    """

    def __init__(self, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._tats: dict[str, float] = {}
        self.unchecked = 0  # memory always answers

    def __len__(self) -> int:
        return len(self._tats)

    async def take(self, buckets: Sequence[Bucket]) -> Verdict:
        now = self._clock()
        stored = [self._tats.get(b.key, now) for b in buckets]
        verdict, new_tats = _verdict(now, [b.rate for b in buckets], stored)
        for bucket, tat in zip(buckets, new_tats, strict=False):
            self._tats[bucket.key] = tat
        if len(self._tats) > MEMORY_PRUNE_THRESHOLD:
            self._prune(now)
        return verdict

    async def available(self, bucket: Bucket) -> Available:
        now = self._clock()
        return _available(now, bucket.rate, self._tats.get(bucket.key, now))

    def _prune(self, now: float) -> None:
        """Forget full buckets: a missing bucket is a full one (bounded memory)."""
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}

    async def close(self) -> None:
        self._tats.clear()


# KEYS: the buckets; ARGV[1]: now (ms); then, per bucket, its interval (ms) and burst.
# Returns {admitted (0/1), milliseconds to wait, index (1-based) of the refusing bucket}.
# Same arithmetic as _verdict; a bucket's key expires when the bucket is full again.
_TAKE = """
local now = tonumber(ARGV[1])
local tats = {}
local wait, refused = 0, 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allowed_at = new_tat - burst * interval
  if allowed_at > now and allowed_at - now > wait then
    wait, refused = allowed_at - now, i
  end
  tats[i] = new_tat
end
if refused > 0 then
  return {0, math.ceil(wait), refused}
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now))
end
return {1, 0, 0}
"""


class RedisBuckets:
    """Buckets in Redis under ``prefix``, shared by every process on that Redis.

    Keys written ``{tag}...`` (a Redis Cluster hash tag) keep the buckets one request
    checks together in one slot. Fails open while Redis cannot answer (module doc);
    ``unchecked`` counts the requests admitted that way.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        purpose: str = "rate limits",
        timeout: float = 0.5,
        retry_seconds: float = 1.0,
        max_connections: int = 50,
        clock: Clock = time.time,
    ) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.prefix = prefix
        self.purpose = purpose  # what the log lines name: "rate limits", "sign-in throttle"
        self.retry_seconds = retry_seconds
        self.unchecked = 0
        self._clock = clock
        self._down_until: float | None = None
        # Short timeouts and no retries: a Redis that cannot answer quickly is down, and
        # the request goes on without it rather than waiting.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._redis: Any = Redis.from_pool(pool)
        self._script: Any = self._redis.register_script(_TAKE)

    @property
    def failing_open(self) -> bool:
        """Whether Redis was unreachable at the last attempt (requests pass unchecked)."""
        return self._down_until is not None

    async def take(self, buckets: Sequence[Bucket]) -> Verdict:
        now = self._clock()
        if self._down_until is not None and now < self._down_until:
            self.unchecked += 1
            return ADMITTED
        args: list[float | int] = [now * 1000.0]
        for bucket in buckets:
            args += [bucket.rate.interval * 1000.0, bucket.rate.burst]
        try:
            admitted, wait_ms, refused = await self._script(
                keys=[self.prefix + b.key for b in buckets], args=args
            )
        except (RedisError, OSError, TimeoutError) as exc:
            return self._failed_open(now, exc)
        if self._down_until is not None:
            self._down_until = None
            logger.info("%s: Redis answers again; enforced across processes", self.purpose)
        if admitted:
            return ADMITTED
        return Verdict(admitted=False, retry_after=int(wait_ms) / 1000.0, refused_by=refused - 1)

    async def available(self, bucket: Bucket) -> Available:
        now = self._clock()
        if self._down_until is not None and now < self._down_until:
            return Available(bucket.rate.burst)  # unchecked, as a take would be
        try:
            stored = await self._redis.get(self.prefix + bucket.key)
        except (RedisError, OSError, TimeoutError) as exc:
            self._went_down(now, exc)
            return Available(bucket.rate.burst)
        tat = float(stored) / 1000.0 if stored is not None else now
        return _available(now, bucket.rate, tat)

    def _failed_open(self, now: float, exc: BaseException) -> Verdict:
        self._went_down(now, exc)
        self.unchecked += 1
        return ADMITTED

    def _went_down(self, now: float, exc: BaseException) -> None:
        """Redis could not answer: logged once, not asked again for ``retry_seconds``."""
        if self._down_until is None:
            logger.warning(
                "%s: Redis unreachable or too slow (%s: %s); requests pass "
                "unchecked until it answers again",
                self.purpose,
                type(exc).__name__,
                exc,
            )
        self._down_until = now + self.retry_seconds

    async def close(self) -> None:
        await self._redis.aclose()


def retry_after_header(seconds: float) -> int:
    """Whole seconds for ``Retry-After``, at least 1 (0 would invite an instant retry)."""
    return max(1, math.ceil(seconds))

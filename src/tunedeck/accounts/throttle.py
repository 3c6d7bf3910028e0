"""Failed sign-ins, throttled per client address: the check of every door that takes a
credential (REST, the session sign-in, GraphQL over HTTP and WebSocket, the live feed,
the overlay's art).

Each client address (``kit.addresses.limit_key``) has a token bucket of failures:
``TUNEDECK_AUTH_FAILURE_BURST`` tokens, ``TUNEDECK_AUTH_FAILURES_PER_SECOND`` back each
second, and a failed authentication spends one. Good credentials spend nothing: a bot
making hundreds of good calls a second never notices. Once the bucket is empty, every
attempt from the address, good credential or not, is refused without a look (429
``too_many_failed_logins`` with ``Retry-After``; a WebSocket is closed with 4429) until a
token is back; other addresses are unaffected.

A failure is only known once the credential was looked up, so attempts under way are
counted too: an address has at most as many lookups under way in a process as its
bucket has tokens, and a further attempt waits for one of them to end (a few
milliseconds) before it is looked at. Otherwise a thousand wrong keys sent at once would
all be looked up before the first failure was counted. The attempts waiting for an
address are woken one per lookup that ends, in the order they came: ten thousand good
connections arriving at once from one address (overlays behind one NAT, a restart's
reconnections) cost one bucket read each, not one per attempt per wake.

Buckets live in Redis when ``TUNEDECK_REDIS_URL`` is set (every process shares them,
under the deployment's namespace), in memory otherwise, as the player's rate limits do;
while Redis cannot be reached, attempts pass unchecked.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from tunedeck.config import Settings
from tunedeck.kit.addresses import limit_key
from tunedeck.kit.deps import runtime_of
from tunedeck.kit.errors import ErrorDetails, TuneDeckError, Unauthorized
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.token_bucket import (
    Bucket,
    BucketStore,
    Clock,
    MemoryBuckets,
    Rate,
    RedisBuckets,
    retry_after_header,
)


class TooManyFailedLogins(TuneDeckError):  # noqa: N818 (HTTP names read better)
    """The client's address failed to authenticate too often; nothing was checked."""

    status = 429
    code = "too_many_failed_logins"

    def __init__(self, retry_after: float) -> None:
        seconds = retry_after_header(retry_after)
        super().__init__(
            f"Too many failed sign-ins from this address; retry after {seconds} s.",
            headers={"Retry-After": str(seconds)},
            details=ErrorDetails(
                retry_after=seconds,
                hint="check the key or token this client sends: it was refused too often",
            ),
        )
        self.retry_after = seconds


class FailedLogins:
    """The failure buckets of one process (``rate`` None: no throttle, failures counted)."""

    def __init__(
        self, store: BucketStore, rate: Rate | None, *, metrics: Metrics | None = None
    ) -> None:
        self.store = store
        self.rate = rate
        self.metrics = metrics
        # Lookups under way, per bucket; the attempts waiting for one of them to end, and
        # those woken that have not looked yet (each will take the place it was woken for).
        self._under_way: Counter[str] = Counter()
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._woken: Counter[str] = Counter()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, metrics: Metrics | None = None, clock: Clock = time.time
    ) -> FailedLogins:
        rate = (
            Rate(settings.auth_failures_per_second, settings.auth_failure_burst)
            if settings.auth_throttle
            else None
        )
        store: BucketStore
        if settings.redis_url and rate is not None:
            store = RedisBuckets(
                settings.redis_url,
                prefix=f"{settings.redis_namespace}:auth:",  # the deployment's namespace
                purpose="sign-in throttle",
                timeout=settings.rate_limit_redis_timeout_seconds,
                clock=clock,
            )
        else:
            store = MemoryBuckets(clock=clock)
        return cls(store, rate, metrics=metrics)

    @asynccontextmanager
    async def attempt(self, scope: Any) -> AsyncIterator[None]:
        """Around one authentication of the connection ``scope``: :class:`TooManyFailedLogins`
        before it when the address is throttled; an ``Unauthorized`` raised in the block
        spends one of the address's tokens."""
        transport = "websocket" if scope.get("type") == "websocket" else "http"
        if self.rate is None:
            try:
                yield
            except Unauthorized:
                self._count("failed", transport)
                raise
            return
        bucket = Bucket(f"failed:{limit_key(scope)}", self.rate)
        await self._start(bucket, transport)
        try:
            yield
        except Unauthorized:
            self._count("failed", transport)
            await self.store.take([bucket])
            raise
        finally:
            self._end(bucket)

    async def _start(self, bucket: Bucket, transport: str) -> None:
        """Count a lookup under way for ``bucket``, once it has a token to pay for a
        failure that no lookup under way has claimed; refuse when it has none.

        An attempt woken by a lookup's end that does not take the place it freed (refused,
        cancelled) passes the wake on, so no attempt waits for a lookup that never ends."""
        key = bucket.key
        woken = False
        try:
            while True:
                free = await self.store.available(bucket)
                if free.tokens == 0:
                    self._count("throttled", transport)
                    raise TooManyFailedLogins(free.retry_after)
                if self._under_way[key] < free.tokens:
                    self._under_way[key] += 1
                    if self._under_way[key] + self._woken[key] < free.tokens:
                        self._wake_one(key)  # room for the next one too (tokens earned back)
                    return
                await self._wait_for_a_lookup(key)
                woken = True
                self._was_woken(key)
        except BaseException:
            if woken:
                self._wake_one(key)
            raise

    async def _wait_for_a_lookup(self, key: str) -> None:
        """Until a lookup under way for ``key`` ends and this is the first attempt waiting."""
        woken = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(key, deque())
        waiting.append(woken)
        try:
            await woken
        except BaseException:
            if woken in waiting:
                waiting.remove(woken)
                if not waiting:
                    del self._waiting[key]
            elif not woken.cancelled():
                self._was_woken(key)
                self._wake_one(key)  # woken and cancelled at once: the next one goes
            raise

    def _end(self, bucket: Bucket) -> None:
        self._under_way[bucket.key] -= 1
        if self._under_way[bucket.key] <= 0:
            del self._under_way[bucket.key]
        self._wake_one(bucket.key)

    def _wake_one(self, key: str) -> None:
        waiting = self._waiting.get(key)
        if waiting is None:
            return
        while waiting:
            woken = waiting.popleft()
            if not woken.done():
                woken.set_result(None)
                self._woken[key] += 1
                break
        if not waiting:
            del self._waiting[key]

    def _was_woken(self, key: str) -> None:
        self._woken[key] -= 1
        if self._woken[key] <= 0:
            del self._woken[key]

    def _count(self, outcome: str, transport: str) -> None:
        if self.metrics is None:
            return
        counter = self.metrics.auth_failures if outcome == "failed" else self.metrics.auth_throttled
        counter.labels(transport).inc()

    async def close(self) -> None:
        await self.store.close()


class ThrottleRuntime(Protocol):
    """The part of the process's runtime the throttle is read from (``kit.deps``)."""

    @property
    def failed_logins(self) -> FailedLogins: ...


def authentication_attempt(conn: HTTPConnection) -> AbstractAsyncContextManager[None]:
    """THE throttle of a door authenticating ``conn`` (module doc): wrap the credential's
    lookup in it."""
    runtime: ThrottleRuntime = runtime_of(conn)
    return runtime.failed_logins.attempt(conn.scope)

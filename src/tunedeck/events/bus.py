"""The broadcast bus: an account's live messages, to every subscriber in every process.

``InProcessBus`` serves the embedded default (one process). ``RedisBus`` publishes on
Redis pub/sub channel ``tunedeck:account:<id>`` and keeps ONE subscriber connection
per process (a pattern subscription) that fans messages out in memory to this
process's local subscribers (the WebSocket hub), reconnecting by itself with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from starlette.requests import HTTPConnection

from tunedeck.config import Settings

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "tunedeck:account:"
QUEUE_SIZE = 1000


Outgoing = tuple[uuid.UUID, dict[str, Any]]  # (account id, message)


class BusUnavailable(Exception):  # noqa: N818 (reads as a state)
    """Messages could not be published (the relay keeps them and retries).

    ``published``: how many of a ``publish_many`` batch certainly went out before it failed.
    """

    def __init__(self, message: str, *, published: int = 0) -> None:
        super().__init__(message)
        self.published = published


class Subscription:
    """One local subscriber's messages of one account, in publish order.

    Iterate it (``async for message in sub``) or ``await sub.get()``. A subscriber that
    falls more than ``QUEUE_SIZE`` messages behind loses the oldest ones (``dropped``).
    """

    def __init__(self, account_id: uuid.UUID, maxsize: int = QUEUE_SIZE) -> None:
        self.account_id = account_id
        self.dropped = 0
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)

    def _put(self, message: dict[str, Any] | None) -> None:
        while True:
            try:
                self._queue.put_nowait(message)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped += 1

    async def get(self) -> dict[str, Any]:
        message = await self._queue.get()
        if message is None:
            self._queue.put_nowait(None)  # stay closed for later readers
            raise StopAsyncIteration
        return message

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self.get()


class EventBus(Protocol):
    """What the relay publishes to and the real-time hub subscribes to."""

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> None:
        """Deliver ``message`` to the account's subscribers; ``BusUnavailable`` if it cannot."""
        ...

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """Publish in this order, in as few round trips as the bus allows."""
        ...

    def subscribe(self, account_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]:
        """``async with bus.subscribe(account_id) as sub: async for message in sub: ...``"""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalFanout:
    """This process's subscribers by account, and the delivery to them."""

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}

    def deliver(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        subscribers = self._subscribers.get(account_id, ())
        for subscription in subscribers:
            subscription._put(message)
        return len(subscribers)

    def subscriber_count(self, account_id: uuid.UUID | None = None) -> int:
        if account_id is not None:
            return len(self._subscribers.get(account_id, ()))
        return sum(len(s) for s in self._subscribers.values())

    @asynccontextmanager
    async def subscribe(self, account_id: uuid.UUID) -> AsyncIterator[Subscription]:
        subscription = Subscription(account_id)
        self._subscribers.setdefault(account_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(account_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(account_id, None)

    def close_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._put(None)


class InProcessBus(LocalFanout):
    """The bus of a single process: publishing is delivering."""

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> None:
        self.deliver(account_id, message)

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        for account_id, message in messages:
            self.deliver(account_id, message)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.close_all()


class RedisBus(LocalFanout):
    """Redis pub/sub with one pattern subscription per process, fanned out in memory.

    ``publish`` waits (up to ``ready_timeout``) until this process's own subscription is
    live, so that after a Redis outage local subscribers do not miss what the relay
    re-publishes before the listener has re-subscribed.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = CHANNEL_PREFIX,
        ready_timeout: float = 2.0,
        min_backoff: float = 0.05,
        max_backoff: float = 2.0,
        connect_timeout: float = 1.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        self.ready_timeout = ready_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.connect_timeout = connect_timeout
        self.reconnects = 0
        self._ready = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._publisher: Any = None

    def channel(self, account_id: uuid.UUID) -> str:
        return f"{self.prefix}{account_id}"

    def _client(self, **kwargs: Any) -> Any:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside redis-py: a failure surfaces here, and we decide what to redo
        # (a blind retry of a PUBLISH whose reply was lost would deliver it twice).
        return Redis.from_url(
            self.url,
            socket_connect_timeout=self.connect_timeout,
            retry=Retry(NoBackoff(), 0),
            **kwargs,
        )

    async def start(self) -> None:
        if self._listener is not None:
            return
        self._publisher = self._client(socket_timeout=self.connect_timeout + 1)
        self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None
        self._ready.clear()
        self.close_all()

    @property
    def ready(self) -> bool:
        """Whether this process's subscription is live."""
        return self._ready.is_set()

    async def wait_ready(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> None:
        await self.publish_many([(account_id, message)])

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """One pipeline (one round trip), in order. If it fails, none counts as published."""
        from redis.exceptions import RedisError

        if not messages:
            return
        if self._publisher is None:
            raise BusUnavailable("the Redis bus is not started")
        if not await self.wait_ready(self.ready_timeout):
            raise BusUnavailable("the Redis subscription is not live")
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for account_id, message in messages:
                    pipe.publish(
                        self.channel(account_id), json.dumps(message, separators=(",", ":"))
                    )
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"Redis publish failed: {exc!r}") from exc

    async def _listen(self) -> None:
        backoff = self.min_backoff
        pattern = f"{self.prefix}*"
        while True:
            client = self._client(socket_timeout=None, health_check_interval=5)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(pattern)
                while True:
                    raw = await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
                    if raw is None:
                        continue
                    if raw["type"] == "psubscribe":
                        if self.reconnects:
                            await self._drop_stale_publisher_connections()
                        self._ready.set()
                        backoff = self.min_backoff
                    elif raw["type"] == "pmessage":
                        self._dispatch(raw["channel"], raw["data"])
            except Exception as exc:  # whatever broke the connection: reconnect
                if self._ready.is_set():
                    logger.warning("Redis bus subscription lost: %r; reconnecting", exc)
                self._ready.clear()
                self.reconnects += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _drop_stale_publisher_connections(self) -> None:
        # Redis went away and came back: pooled connections point at the old server and
        # would fail the next publish; reconnect them before publishing resumes.
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.connection_pool.disconnect()

    def _dispatch(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        try:
            account_id = uuid.UUID(name[len(self.prefix) :])
            message = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            logger.debug("ignoring a malformed message on %s", name)
            return
        if isinstance(message, dict):
            self.deliver(account_id, message)


def create_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when ``TUNEDECK_REDIS_URL`` is set, the in-process bus otherwise."""
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    return InProcessBus()


def get_bus(conn: HTTPConnection) -> EventBus:
    """The app's bus (``app.state.bus``), for the real-time hub."""
    bus: EventBus = conn.app.state.bus
    return bus

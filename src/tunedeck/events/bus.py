"""The broadcast bus: an account's live messages, to every subscriber in every process.

``InProcessBus`` serves the embedded default (one process). ``RedisBus`` publishes on
Redis pub/sub channel ``<namespace>:account:<id>`` and keeps ONE subscriber connection
per process (a pattern subscription) that fans messages out in memory to this
process's local subscribers (the WebSocket hub), reconnecting by itself with backoff.
Pub/sub ignores the Redis database number, so every key and channel carries the
namespace (``TUNEDECK_REDIS_NAMESPACE``, default ``tunedeck``): deployments sharing a
Redis keep apart by giving each its own.

Message ids: the bus gives every message it publishes an ``id`` that increases per
account channel in delivery order, across processes (Redis: a Lua script doing INCR and
PUBLISH atomically; in-process: a counter on the bus). A channel's counter starts at the
current time in milliseconds, so it keeps increasing when Redis restarts empty. The bus
also keeps, per account, a bounded index of the ``event`` messages (id -> event id),
which lets a reconnecting client be sent what it missed (:meth:`EventBus.history`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from tunedeck.config import Settings

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "tunedeck"
CHANNEL_PREFIX = f"{DEFAULT_NAMESPACE}:account:"  # the default namespace's channels
QUEUE_SIZE = 1000
# Connections to Redis for publishing and history reads, per process.
PUBLISHER_CONNECTIONS = 50
# Events indexed per account for resuming clients (older ones: the client gets a reset).
HISTORY_SIZE = 1000


Outgoing = tuple[uuid.UUID, dict[str, Any]]  # (account id, message)
Callback = Callable[[dict[str, Any]], None]
"""A local listener: called with each message of its account, in order, synchronously."""


@dataclass(frozen=True, slots=True)
class History:
    """Where an account channel stands, and the events published after some id.

    ``head``: the id of the channel's latest message (0 < head; the next is greater);
    ``floor``: every event published with an id above it is in the index (older entries
    were trimmed, or the counter started over there); ``events``: ``(message id, event
    id)`` of the indexed events above the asked ``since``, oldest first.
    """

    head: int
    floor: int
    events: tuple[tuple[int, uuid.UUID], ...] = ()

    def covers(self, since: int) -> bool:
        """Whether every event published after ``since`` is in ``events``."""
        return self.floor <= since <= self.head


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event_id(message: dict[str, Any]) -> str | None:
    """The event id of an ``event`` message (what the history indexes), else None."""
    if message.get("type") != "event":
        return None
    event = message.get("event")
    value = event.get("id") if isinstance(event, dict) else None
    return str(value) if value is not None else None


def _parse_events(pairs: Sequence[tuple[int, str]]) -> tuple[tuple[int, uuid.UUID], ...]:
    found = []
    for message_id, event_id in pairs:
        try:
            found.append((int(message_id), uuid.UUID(event_id)))
        except ValueError:
            continue
    return tuple(sorted(found))


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
    """What the relay and the poller publish to and the real-time hub subscribes to."""

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        """Deliver ``message`` (any ``id`` in it is replaced) to the account's subscribers
        with the next id of its channel; return that id. ``BusUnavailable`` if it cannot."""
        ...

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[int]:
        """Publish in this order, in as few round trips as the bus allows; the ids given."""
        ...

    def subscribe(self, account_id: uuid.UUID) -> AbstractAsyncContextManager[Subscription]:
        """``async with bus.subscribe(account_id) as sub: async for message in sub: ...``"""
        ...

    def listen(self, account_id: uuid.UUID, callback: Callback) -> Callable[[], None]:
        """Call ``callback`` with each message of the account (in this process, in order);
        returns the function that stops it. For the hub: one per account, not per client."""
        ...

    async def history(self, account_id: uuid.UUID, since: int | None = None) -> History:
        """The channel's head and floor, and (with ``since``) the indexed events after it."""
        ...

    @property
    def connected(self) -> bool:
        """Whether publishing can work now (Redis: this process's subscription is live)."""
        ...

    @property
    def reconnects(self) -> int:
        """How many times the bus lost its connection and set out to reconnect."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalFanout:
    """This process's subscribers by account, and the delivery to them."""

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._listeners: dict[uuid.UUID, list[Callback]] = {}

    def deliver(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        subscribers = self._subscribers.get(account_id, ())
        for subscription in subscribers:
            subscription._put(message)
        listeners = self._listeners.get(account_id, ())
        for callback in tuple(listeners):
            try:
                callback(message)
            except Exception:
                # One listener's bug must not cost the others (or the Redis listener) a message.
                logger.exception("bus listener of account %s failed", account_id)
        return len(subscribers) + len(listeners)

    def subscriber_count(self, account_id: uuid.UUID | None = None) -> int:
        if account_id is not None:
            return len(self._subscribers.get(account_id, ())) + len(
                self._listeners.get(account_id, ())
            )
        return sum(len(s) for s in self._subscribers.values()) + sum(
            len(s) for s in self._listeners.values()
        )

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

    def listen(self, account_id: uuid.UUID, callback: Callback) -> Callable[[], None]:
        self._listeners.setdefault(account_id, []).append(callback)

        def stop() -> None:
            callbacks = self._listeners.get(account_id, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._listeners.pop(account_id, None)

        return stop

    def close_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._put(None)


class _Channel:
    """An in-process channel's counter and event index (see :class:`History`)."""

    def __init__(self, seed: int) -> None:
        self.head = seed
        self.floor = seed
        self.events: OrderedDict[str, int] = OrderedDict()  # event id -> message id


class InProcessBus(LocalFanout):
    """The bus of a single process: publishing is numbering, indexing and delivering."""

    def __init__(self, *, history_size: int = HISTORY_SIZE) -> None:
        super().__init__()
        self.history_size = history_size
        self._channels: dict[uuid.UUID, _Channel] = {}

    def _channel(self, account_id: uuid.UUID) -> _Channel:
        channel = self._channels.get(account_id)
        if channel is None:
            channel = self._channels[account_id] = _Channel(_now_ms())
        return channel

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        channel = self._channel(account_id)
        channel.head += 1
        event_id = _event_id(message)
        if event_id is not None:
            # A redelivered event moves to its latest id: the index holds it once.
            channel.events.pop(event_id, None)
            channel.events[event_id] = channel.head
            while len(channel.events) > self.history_size:
                _, trimmed = channel.events.popitem(last=False)
                channel.floor = max(channel.floor, trimmed)
        self.deliver(account_id, {**message, "id": channel.head})
        return channel.head

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[int]:
        return [await self.publish(account_id, message) for account_id, message in messages]

    @property
    def connected(self) -> bool:
        return True  # nothing to lose in one process

    @property
    def reconnects(self) -> int:
        return 0

    async def history(self, account_id: uuid.UUID, since: int | None = None) -> History:
        channel = self._channel(account_id)
        events: tuple[tuple[int, uuid.UUID], ...] = ()
        if since is not None:
            events = _parse_events(
                [(mid, eid) for eid, mid in channel.events.items() if mid > since]
            )
        return History(head=channel.head, floor=channel.floor, events=events)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.close_all()


# Redis: number, index and publish in one atomic step, so ids follow delivery order
# across processes. One call publishes a run of one account's messages, in order.
# KEYS: counter, floor, index, channel. ARGV: the index size, then per message its JSON
# after the opening brace with a leading comma ("}" for an empty message) and the event
# id to index ("" if none). Returns the ids given, in order.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  local now = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('SET', KEYS[1], now)
  redis.call('SET', KEYS[2], now)
end
"""
_PUBLISH = (
    _SEED
    + """
local ids = {}
local indexed = false
for i = 2, #ARGV, 2 do
  local id = redis.call('INCR', KEYS[1])
  if ARGV[i + 1] ~= '' then
    redis.call('ZADD', KEYS[3], id, ARGV[i + 1])
    indexed = true
  end
  redis.call('PUBLISH', KEYS[4], '{"id":' .. id .. ARGV[i])
  ids[#ids + 1] = id
end
if indexed then
  local n = redis.call('ZCARD', KEYS[3])
  local cap = tonumber(ARGV[1])
  if n > cap then
    local cut = redis.call('ZRANGE', KEYS[3], n - cap - 1, n - cap - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', KEYS[3], 0, n - cap - 1)
    redis.call('SET', KEYS[2], cut[2])
  end
end
return ids
"""
)
# KEYS: counter, floor, index. ARGV: since ("" for none). Returns {head, floor, index...}.
_HISTORY = (
    _SEED
    + """
local out = {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
if ARGV[1] ~= '' then
  local found = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #found do out[#out + 1] = found[i] end
end
return out
"""
)


def _tail(message: dict[str, Any]) -> str:
    """The JSON of ``message`` without ``id``, after its opening brace, ready for the script."""
    body = json.dumps({k: v for k, v in message.items() if k != "id"}, separators=(",", ":"))
    rest = body[1:]
    return rest if rest == "}" else "," + rest


class RedisBus(LocalFanout):
    """Redis pub/sub with one pattern subscription per process, fanned out in memory.

    ``publish`` waits (up to ``ready_timeout``) until this process's own subscription is
    live, so that after a Redis outage local subscribers do not miss what the relay
    re-publishes before the listener has re-subscribed.

    ``connected`` says whether that subscription is live now; ``reconnects`` counts the
    connections lost (each followed by attempts to reconnect, with backoff).
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        ready_timeout: float = 2.0,
        min_backoff: float = 0.05,
        max_backoff: float = 2.0,
        connect_timeout: float = 1.0,
        history_size: int = HISTORY_SIZE,
    ) -> None:
        super().__init__()
        self.url = url
        self.namespace = namespace
        # Channels ``<namespace>:account:<id>``; the pattern subscription below is
        # ``<namespace>:account:*``, so a namespace holds no glob characters (Settings).
        self.prefix = f"{namespace}:account:"
        self.ready_timeout = ready_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.connect_timeout = connect_timeout
        self.history_size = history_size
        self._reconnects = 0
        self._ready = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._publisher: Any = None
        self._publish_script: Any = None
        self._history_script: Any = None

    def channel(self, account_id: uuid.UUID) -> str:
        return f"{self.prefix}{account_id}"

    def _keys(self, account_id: uuid.UUID) -> list[str]:
        # Hash-tagged by account, so a cluster keeps an account's keys in one slot.
        base = f"{self.prefix.rstrip(':')}:{{{account_id}}}"
        return [f"{base}:seq", f"{base}:floor", f"{base}:events"]

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

    def _pooled_client(self) -> Any:
        """The client that publishes and reads history, shared by every request: when all
        its connections are busy (thousands of feed clients connecting at once) a caller
        waits for one instead of failing."""
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        pool = BlockingConnectionPool.from_url(
            self.url,
            max_connections=PUBLISHER_CONNECTIONS,
            timeout=self.connect_timeout + 1,
            socket_connect_timeout=self.connect_timeout,
            socket_timeout=self.connect_timeout + 1,
            retry=Retry(NoBackoff(), 0),
        )
        return Redis.from_pool(pool)  # owns the pool: closed with the client

    async def start(self) -> None:
        if self._listener is not None:
            return
        self._publisher = self._pooled_client()
        self._publish_script = self._publisher.register_script(_PUBLISH)
        self._history_script = self._publisher.register_script(_HISTORY)
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
        self._publish_script = self._history_script = None
        self._ready.clear()
        self.close_all()

    @property
    def ready(self) -> bool:
        """Whether this process's subscription is live."""
        return self._ready.is_set()

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    @property
    def reconnects(self) -> int:
        return self._reconnects

    async def wait_ready(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def publish(self, account_id: uuid.UUID, message: dict[str, Any]) -> int:
        return (await self.publish_many([(account_id, message)]))[0]

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[int]:
        """One pipeline (one round trip), in order. If it fails, none counts as published."""
        from redis.exceptions import RedisError

        if not messages:
            return []
        if self._publisher is None:
            raise BusUnavailable("the Redis bus is not started")
        if not await self.wait_ready(self.ready_timeout):
            raise BusUnavailable("the Redis subscription is not live")
        # One script call per account (its messages in order), all in one pipeline.
        runs: dict[uuid.UUID, list[int]] = {}
        for index, (account_id, _) in enumerate(messages):
            runs.setdefault(account_id, []).append(index)
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                # Loading the script in the same round trip (a no-op when Redis has it)
                # spares the pipeline its SCRIPT EXISTS round trip.
                pipe.script_load(_PUBLISH)
                for account_id, indexes in runs.items():
                    keys = [*self._keys(account_id), self.channel(account_id)]
                    args: list[str | int] = [self.history_size]
                    for index in indexes:
                        message = messages[index][1]
                        args += [_tail(message), _event_id(message) or ""]
                    pipe.evalsha(self._publish_script.sha, len(keys), *keys, *args)
                _, *replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"Redis publish failed: {exc!r}") from exc
        ids = [0] * len(messages)
        for indexes, given in zip(runs.values(), replies, strict=True):
            for index, message_id in zip(indexes, given, strict=True):
                ids[index] = int(message_id)
        return ids

    async def history(self, account_id: uuid.UUID, since: int | None = None) -> History:
        from redis.exceptions import RedisError

        if self._history_script is None:
            raise BusUnavailable("the Redis bus is not started")
        try:
            raw = await self._history_script(
                keys=self._keys(account_id), args=["" if since is None else str(since)]
            )
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"Redis history read failed: {exc!r}") from exc
        head, floor, *flat = (v.decode() if isinstance(v, bytes) else str(v) for v in raw)
        pairs = [(int(float(flat[i + 1])), flat[i]) for i in range(0, len(flat), 2)]
        return History(head=int(head), floor=int(floor), events=_parse_events(pairs))

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
                        if self._reconnects:
                            await self._drop_stale_publisher_connections()
                            logger.info(
                                "Redis bus subscription live again (%d reconnect attempts so far)",
                                self.reconnects,
                                extra={"event": "bus_reconnected", "reconnects": self.reconnects},
                            )
                        self._ready.set()
                        backoff = self.min_backoff
                    elif raw["type"] == "pmessage":
                        self._dispatch(raw["channel"], raw["data"])
            except Exception as exc:  # whatever broke the connection: reconnect
                if self._ready.is_set():
                    logger.warning(
                        "Redis bus subscription lost: %r; reconnecting",
                        exc,
                        extra={"event": "bus_lost", "reconnects": self.reconnects},
                    )
                self._ready.clear()
                self._reconnects += 1
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
            # Every account's messages reach every process: decode only those it serves.
            if not self.subscriber_count(account_id):
                return
            message = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            logger.debug("ignoring a malformed message on %s", name)
            return
        if isinstance(message, dict):
            self.deliver(account_id, message)


def create_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when ``TUNEDECK_REDIS_URL`` is set, the in-process bus otherwise."""
    if settings.redis_url:
        return RedisBus(settings.redis_url, namespace=settings.redis_namespace)
    return InProcessBus()

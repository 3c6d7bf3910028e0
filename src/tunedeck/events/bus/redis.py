"""The bus over Redis pub/sub, for several processes: one subscription per process.

Messages of an account go out on channel ``<namespace>:account:<id>``. Each process keeps
ONE subscriber connection (a pattern subscription) that fans the messages out in memory
to its local subscribers (the WebSocket hub), reconnecting by itself with backoff.
Pub/sub ignores the Redis database number, so every key and channel carries the
namespace (``TUNEDECK_REDIS_NAMESPACE``, default ``tunedeck``): deployments sharing a
Redis keep apart by giving each its own.

Numbering, indexing and publishing happen in one Lua script (``publish.lua``; reading
the index back: ``history.lua``; both start with ``seed.lua``), files of this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from tunedeck.events.bus.interface import (
    HISTORY_SIZE,
    BusUnavailable,
    History,
    Outgoing,
    event_id_of,
    indexed_events,
)
from tunedeck.events.bus.local import LocalFanout, logger

DEFAULT_NAMESPACE = "tunedeck"
CHANNEL_PREFIX = f"{DEFAULT_NAMESPACE}:account:"  # the default namespace's channels
# Connections to Redis for publishing and history reads, per process.
PUBLISHER_CONNECTIONS = 50


def _script(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


_SEED = _script("seed.lua")
PUBLISH_SCRIPT = _SEED + _script("publish.lua")
HISTORY_SCRIPT = _SEED + _script("history.lua")


def script_tail(message: dict[str, Any]) -> str:
    """The JSON of ``message`` without ``id``, after its opening brace, as ``publish.lua``
    takes it (it writes the id in front)."""
    body = json.dumps({k: v for k, v in message.items() if k != "id"}, separators=(",", ":"))
    rest = body[1:]
    return rest if rest == "}" else "," + rest


def _runs(messages: Sequence[Outgoing]) -> dict[uuid.UUID, list[int]]:
    """The positions of each account's messages, in order: one script call per account."""
    runs: dict[uuid.UUID, list[int]] = {}
    for index, (account_id, _) in enumerate(messages):
        runs.setdefault(account_id, []).append(index)
    return runs


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
        self._publish_script = self._publisher.register_script(PUBLISH_SCRIPT)
        self._history_script = self._publisher.register_script(HISTORY_SCRIPT)
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

    # -- publishing and history -------------------------------------------------------

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
        runs = _runs(messages)
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                # Loading the script in the same round trip (a no-op when Redis has it)
                # spares the pipeline its SCRIPT EXISTS round trip.
                pipe.script_load(PUBLISH_SCRIPT)
                for account_id, indexes in runs.items():
                    keys = [*self._keys(account_id), self.channel(account_id)]
                    args = self._publish_args([messages[i][1] for i in indexes])
                    pipe.evalsha(self._publish_script.sha, len(keys), *keys, *args)
                _, *replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"Redis publish failed: {exc!r}") from exc
        ids = [0] * len(messages)
        for indexes, given in zip(runs.values(), replies, strict=True):
            for index, message_id in zip(indexes, given, strict=True):
                ids[index] = int(message_id)
        return ids

    def _publish_args(self, run: Sequence[dict[str, Any]]) -> list[str | int]:
        """``publish.lua``'s arguments for one account's run of messages."""
        args: list[str | int] = [self.history_size]
        for message in run:
            args += [script_tail(message), event_id_of(message) or ""]
        return args

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
        return History(head=int(head), floor=int(floor), events=indexed_events(pairs))

    # -- this process's subscription ---------------------------------------------------

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
                        await self._subscribed()
                        backoff = self.min_backoff
                    elif raw["type"] == "pmessage":
                        self._dispatch(raw["channel"], raw["data"])
            except Exception as exc:  # whatever broke the connection: reconnect
                self._lost(exc)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _subscribed(self) -> None:
        """The subscription is live (again): publishing may go on."""
        if self._reconnects:
            await self._drop_stale_publisher_connections()
            logger.info(
                "Redis bus subscription live again (%d reconnect attempts so far)",
                self.reconnects,
                extra={"event": "bus_reconnected", "reconnects": self.reconnects},
            )
        self._ready.set()

    def _lost(self, exc: Exception) -> None:
        """The subscription broke: say so once per outage, and count the attempt."""
        if self._ready.is_set():
            logger.warning(
                "Redis bus subscription lost: %r; reconnecting",
                exc,
                extra={"event": "bus_lost", "reconnects": self.reconnects},
            )
        self._ready.clear()
        self._reconnects += 1

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

"""The broadcast bus: fan-out per account, one Redis subscriber per process, reconnection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from tests.events.support import Collector, eventually, without_id
from tests.support.redis_server import OwnRedis
from tunedeck.config import Settings
from tunedeck.events.bus import (
    CHANNEL_PREFIX,
    BusUnavailable,
    EventBus,
    InProcessBus,
    RedisBus,
    Subscription,
    create_bus,
)


@pytest.fixture
async def own_bus(own_redis: OwnRedis) -> AsyncIterator[RedisBus]:
    bus = RedisBus(own_redis.url, min_backoff=0.02, max_backoff=0.2, ready_timeout=1.0)
    await bus.start()
    yield bus
    await bus.close()


async def test_fan_out_per_account(bus: EventBus) -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    async with (
        bus.subscribe(one) as a,
        bus.subscribe(one) as b,
        bus.subscribe(two) as c,
    ):
        got = [Collector(s) for s in (a, b, c)]
        for i in range(3):
            await bus.publish(one, {"kind": "event", "n": i})
        await bus.publish(two, {"kind": "event", "n": "two"})
        await got[0].wait_for(3)
        await got[1].wait_for(3)
        await got[2].wait_for(1)
        await asyncio.sleep(0.1)
        for g in got:
            await g.stop()
    assert [m["n"] for m in got[0].messages] == [0, 1, 2]
    assert got[1].messages == got[0].messages
    assert got[2].bare == [{"kind": "event", "n": "two"}]
    # Ids increase per account channel, in delivery order.
    ids = [m["id"] for m in got[0].messages]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


async def test_unsubscribed_gets_nothing_more(bus: EventBus) -> None:
    account = uuid.uuid4()
    async with bus.subscribe(account) as staying:
        async with bus.subscribe(account) as leaving:
            await bus.publish(account, {"n": 1})
            assert without_id(await asyncio.wait_for(leaving.get(), 5)) == {"n": 1}
        await bus.publish(account, {"n": 2})
        assert without_id(await asyncio.wait_for(staying.get(), 5)) == {"n": 1}
        assert without_id(await asyncio.wait_for(staying.get(), 5)) == {"n": 2}
        assert leaving._queue.empty()


async def test_slow_subscriber_drops_the_oldest() -> None:
    sub = Subscription(uuid.uuid4(), maxsize=3)
    for i in range(5):
        sub._put({"n": i})
    assert sub.dropped == 2
    assert [(await sub.get())["n"] for _ in range(3)] == [2, 3, 4]


async def test_closing_the_bus_ends_subscriptions() -> None:
    bus = InProcessBus()
    await bus.start()
    async with bus.subscribe(uuid.uuid4()) as sub:
        await bus.close()
        assert [m async for m in sub] == []


def test_bus_follows_the_settings(tmp_path: Path) -> None:
    assert isinstance(create_bus(Settings(data_dir=tmp_path)), InProcessBus)
    redis_bus = create_bus(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis_bus, RedisBus)
    # The default namespace keeps the channel names of earlier versions.
    assert redis_bus.channel(uuid.UUID(int=7)) == f"{CHANNEL_PREFIX}{uuid.UUID(int=7)}"
    assert CHANNEL_PREFIX == "tunedeck:account:"
    named = create_bus(
        Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0", redis_namespace="eu-2")
    )
    assert isinstance(named, RedisBus)
    assert named.channel(uuid.UUID(int=7)) == f"eu-2:account:{uuid.UUID(int=7)}"


@pytest.mark.parametrize("namespace", ["", "a*", "a:b", "[ab]", "x" * 65, "sp ace"])
def test_a_namespace_holds_no_pattern_characters(tmp_path: Path, namespace: str) -> None:
    # The bus subscribes to "<namespace>:account:*": a glob or a colon in the namespace
    # would let it hear other deployments.
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, redis_namespace=namespace)


async def test_namespaces_keep_deployments_apart(own_redis: OwnRedis) -> None:
    """Two deployments on one Redis (same database, same account id) hear only their own
    messages; two processes of one deployment hear each other."""
    one = RedisBus(own_redis.url, namespace="one")
    one_too = RedisBus(own_redis.url, namespace="one")
    two = RedisBus(own_redis.url, namespace="two")
    buses = (one, one_too, two)
    account = uuid.uuid4()
    admin = aioredis.Redis.from_url(own_redis.url)
    try:
        for bus in buses:
            await bus.start()
        async with (
            one.subscribe(account) as s_one,
            one_too.subscribe(account) as s_one_too,
            two.subscribe(account) as s_two,
        ):
            for bus in buses:
                assert await bus.wait_ready(5)
            got = [Collector(s) for s in (s_one, s_one_too, s_two)]
            # Published one after the other through one server: each subscriber's
            # connection gets them in this order, so the last one it expects comes after
            # anything it should not have heard.
            first = await one.publish(account, {"n": "one"})
            only = await two.publish(account, {"n": "two"})
            await one_too.publish(account, {"n": "one again"})
            await got[0].wait_for(2)
            await got[1].wait_for(2)
            await got[2].wait_for(1)
            for g in got:
                await g.stop()
            assert got[0].bare == [{"n": "one"}, {"n": "one again"}]
            assert got[1].bare == got[0].bare
            assert got[2].bare == [{"n": "two"}]
            # Each namespace numbers and indexes the account's channel on its own.
            assert (await one.history(account)).head == first + 1
            assert (await two.history(account)).head == only
            keys = {k.decode() if isinstance(k, bytes) else k for k in await admin.keys("*")}
            assert keys == {
                f"{namespace}:account:{{{account}}}:{part}"
                for namespace in ("one", "two")
                for part in ("seq", "floor")
            }
    finally:
        await admin.aclose()
        for bus in buses:
            await bus.close()


async def test_one_redis_subscription_per_process(own_redis: OwnRedis) -> None:
    """Two buses stand for two processes: each holds one pattern subscription, however
    many local subscribers it serves, and each sees what the other publishes."""
    first = RedisBus(own_redis.url)
    second = RedisBus(own_redis.url)
    await first.start()
    await second.start()
    admin = aioredis.Redis.from_url(own_redis.url)
    try:
        accounts = [uuid.uuid4() for _ in range(4)]
        async with (
            first.subscribe(accounts[0]) as s0,
            first.subscribe(accounts[1]) as s1,
            first.subscribe(accounts[1]) as s2,
            second.subscribe(accounts[2]) as s3,
            second.subscribe(accounts[3]) as s4,
        ):
            assert await first.wait_ready(5)
            assert await second.wait_ready(5)
            clients = await admin.client_list()
            assert len([c for c in clients if c["psub"] == "1"]) == 2
            assert [c for c in clients if c["sub"] != "0"] == []
            got = [Collector(s) for s in (s0, s1, s2, s3, s4)]
            await second.publish(accounts[0], {"to": 0})
            await first.publish(accounts[1], {"to": 1})
            await first.publish(accounts[3], {"to": 3})
            for g, n in zip(got, (1, 1, 1, 0, 1), strict=True):
                await g.wait_for(n)
            await asyncio.sleep(0.1)
            for g in got:
                await g.stop()
        assert [g.bare for g in got] == [
            [{"to": 0}],
            [{"to": 1}],
            [{"to": 1}],
            [],
            [{"to": 3}],
        ]
    finally:
        await admin.aclose()
        await first.close()
        await second.close()


async def test_malformed_messages_are_ignored(own_bus: RedisBus, own_redis: OwnRedis) -> None:
    account = uuid.uuid4()
    admin = aioredis.Redis.from_url(own_redis.url)
    try:
        async with own_bus.subscribe(account) as sub:
            assert await own_bus.wait_ready(5)
            await admin.publish(own_bus.channel(account), b"{not json")
            await admin.publish(own_bus.channel(account), b"[1, 2]")
            await admin.publish(f"{CHANNEL_PREFIX}not-an-id", b"{}")
            await own_bus.publish(account, {"ok": True})
            assert without_id(await asyncio.wait_for(sub.get(), 5)) == {"ok": True}
    finally:
        await admin.aclose()


async def test_reconnects_by_itself(own_bus: RedisBus, own_redis: OwnRedis) -> None:
    account = uuid.uuid4()
    async with own_bus.subscribe(account) as sub:
        assert await own_bus.wait_ready(5)
        await own_bus.publish(account, {"n": 1})
        assert without_id(await asyncio.wait_for(sub.get(), 5)) == {"n": 1}

        own_redis.stop()

        async def lost() -> bool:
            return not own_bus.ready

        await eventually(lost, within=5, what="subscription noticed lost")
        with pytest.raises(BusUnavailable):
            await own_bus.publish(account, {"n": "lost"})

        own_redis.start()
        assert await own_bus.wait_ready(10)
        await own_bus.publish(account, {"n": 2})
        assert without_id(await asyncio.wait_for(sub.get(), 5)) == {"n": 2}
    assert own_bus.reconnects >= 1


async def test_publish_before_start_is_refused(own_redis: OwnRedis) -> None:
    bus = RedisBus(own_redis.url)
    with pytest.raises(BusUnavailable):
        await bus.publish(uuid.uuid4(), {})


async def test_ids_and_history_index_events(bus: EventBus) -> None:
    """Every message gets the channel's next id; ``event`` messages are indexed by id so a
    client resuming after some id can be told which events it missed, once each."""
    account = uuid.uuid4()
    start = await bus.history(account)
    assert start.head == start.floor > 0
    assert start.covers(start.head)
    events = [str(uuid.uuid4()) for _ in range(3)]
    ids = [await bus.publish(account, {"type": "event", "event": {"id": e}}) for e in events]
    ids += await bus.publish_many([(account, {"type": "now_playing", "now_playing": None})])
    # A redelivered event (the relay publishes at least once) is indexed once, at its new id.
    again = await bus.publish(account, {"type": "event", "event": {"id": events[0]}})
    assert [*ids, again] == list(range(start.head + 1, start.head + 6))

    history = await bus.history(account, since=ids[0])
    assert history.head == again
    assert history.covers(ids[0])
    assert [(m, str(e)) for m, e in history.events] == [
        (ids[1], events[1]),
        (ids[2], events[2]),
        (again, events[0]),
    ]
    assert not history.covers(again + 1)  # ahead of the channel: its counter went backwards


async def test_history_is_bounded(bus_url: str | None) -> None:
    bus: EventBus = RedisBus(bus_url, history_size=3) if bus_url else InProcessBus(history_size=3)
    await bus.start()
    try:
        account = uuid.uuid4()
        start = (await bus.history(account)).head
        for _ in range(5):
            await bus.publish(account, {"type": "event", "event": {"id": str(uuid.uuid4())}})
        history = await bus.history(account, since=start)
        assert len(history.events) == 3
        # The two oldest were trimmed: a client from before them gets a reset instead.
        assert history.floor == start + 2
        assert not history.covers(start + 1)
        assert history.covers(start + 2)
    finally:
        await bus.close()


async def test_counter_keeps_increasing_after_redis_loses_it(
    own_bus: RedisBus, own_redis: OwnRedis
) -> None:
    """Redis restarted empty: the counter starts again from the clock, above the old ids,
    and a client resuming from an old id is not told the index covers it."""
    account = uuid.uuid4()
    old = await own_bus.publish(account, {"type": "status"})
    admin = aioredis.Redis.from_url(own_redis.url)
    try:
        await admin.flushall()
    finally:
        await admin.aclose()
    await asyncio.sleep(0.01)
    new = await own_bus.publish(account, {"type": "status"})
    assert new > old
    assert not (await own_bus.history(account, since=old)).covers(old)

"""A channel's submissions pass its gate a few at a time; other channels are not held."""

from __future__ import annotations

import asyncio
import uuid

from tunedeck.chat.gates import ChannelGates


async def test_a_channel_passes_a_few_at_a_time() -> None:
    gates = ChannelGates(per_channel=2)
    busy, other = uuid.uuid4(), uuid.uuid4()
    release = asyncio.Event()
    inside = 0
    most = 0

    async def work() -> str:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await release.wait()
        inside -= 1
        return "done"

    held = [asyncio.ensure_future(gates.through(busy, work())) for _ in range(3)]
    await asyncio.sleep(0)
    assert not gates.backed_up(busy)
    held += [asyncio.ensure_future(gates.through(busy, work())) for _ in range(2)]
    await asyncio.sleep(0)
    assert inside == 2
    assert gates.waiting_or_running(busy) == 5
    assert gates.backed_up(busy)  # twice as many as pass at once
    assert not gates.backed_up(other)
    # Another channel is not held by the busy one.
    assert await gates.through(other, asyncio.sleep(0, "free")) == "free"
    release.set()
    assert await asyncio.gather(*held) == ["done"] * 5
    assert most == 2
    assert gates.waiting_or_running(busy) == 0


async def test_unused_gates_are_dropped() -> None:
    gates = ChannelGates(per_channel=1, capacity=2)
    channels = [uuid.uuid4() for _ in range(4)]
    for channel in channels:
        await gates.through(channel, asyncio.sleep(0))
    assert gates.kept == 2

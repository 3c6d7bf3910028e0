"""Lookups that outlast a chat answer: they go on, their outcome is told once, a failure
is kept as "failed", and closing lets them finish or cancels them. Timed by events, not
the clock: the budget is tiny and the work waits for the test's signal."""

from __future__ import annotations

import asyncio

import pytest

from tunedeck.chat.lookups import Finished, Pending, SlowLookups


async def wait_for(event: asyncio.Event) -> str:
    await event.wait()
    return "done"


async def test_within_budget_answers_at_once() -> None:
    lookups: SlowLookups[str] = SlowLookups(budget=5.0)
    ready = asyncio.Event()
    ready.set()
    assert await lookups.within_budget("v", "q", wait_for(ready)) == "done"
    assert lookups.status("v") is None
    assert lookups.under_way == 0


async def test_a_slow_lookup_goes_on_and_is_told_once() -> None:
    lookups: SlowLookups[str] = SlowLookups(budget=0.001)
    release = asyncio.Event()
    assert await lookups.within_budget("v", "neon harbor", wait_for(release)) == Pending(
        "neon harbor"
    )
    assert lookups.running("v") == Pending("neon harbor")
    assert lookups.status("v") == Pending("neon harbor")
    assert lookups.running("someone else") is None
    release.set()
    await lookups.settled()
    assert lookups.running("v") is None
    assert lookups.status("v") == Finished("neon harbor", "done")
    assert lookups.status("v") is None  # told once


async def test_a_failure_in_the_background_is_kept_as_none() -> None:
    lookups: SlowLookups[str] = SlowLookups(budget=0.001)
    release = asyncio.Event()

    async def fails() -> str:
        await release.wait()
        raise RuntimeError("spotify exploded")

    assert isinstance(await lookups.within_budget("v", "q", fails()), Pending)
    release.set()
    await lookups.settled()
    assert lookups.status("v") == Finished("q", None)


async def test_a_failure_within_the_budget_is_raised() -> None:
    lookups: SlowLookups[str] = SlowLookups(budget=5.0)

    async def fails() -> str:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await lookups.within_budget("v", "q", fails())


async def test_close_gives_grace_then_cancels() -> None:
    lookups: SlowLookups[str] = SlowLookups(budget=0.001, grace=0.01)
    never = asyncio.Event()
    await lookups.within_budget("v", "q", wait_for(never))
    assert lookups.under_way == 1
    await lookups.close()
    assert lookups.under_way == 0
    assert lookups.status("v") is None  # cancelled: no outcome to tell
    # Once closing, nothing more is left running behind the process.
    with pytest.raises(asyncio.CancelledError):
        await lookups.within_budget("w", "q", wait_for(never))
    assert lookups.under_way == 0


async def test_outcomes_are_bounded() -> None:
    lookups: SlowLookups[str] = SlowLookups(budget=0.001, capacity=2)
    release = asyncio.Event()
    for viewer in ("a", "b", "c"):
        await lookups.within_budget(viewer, viewer, wait_for(release))
    release.set()
    await lookups.settled()
    assert lookups.status("a") is None
    assert lookups.status("b") == Finished("b", "done")
    assert lookups.status("c") == Finished("c", "done")

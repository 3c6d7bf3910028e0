"""Single flight (kit/single_flight.py): concurrent callers of a key share one call, its
result and its failure; a caller leaving does not cancel it for the others; once it ends
(or is forgotten) the next caller starts a new one."""

from __future__ import annotations

import asyncio

import pytest

from tunedeck.kit.single_flight import SingleFlight


class Upstream:
    """A call held until ``release`` is set; counts how many were started."""

    def __init__(self) -> None:
        self.started = 0
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        self.started += 1
        number = self.started
        await self.release.wait()
        return number


async def until_in_flight(flight: SingleFlight[str, int], key: str) -> None:
    """Let the callers created just before run up to their wait (one loop step)."""
    await asyncio.sleep(0)
    assert flight.in_flight(key)


async def test_concurrent_callers_share_one_call() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    upstream = Upstream()
    waiting = [asyncio.create_task(flight.run("a", upstream)) for _ in range(20)]
    await until_in_flight(flight, "a")
    await asyncio.sleep(0)
    upstream.release.set()
    assert await asyncio.gather(*waiting) == [1] * 20
    assert upstream.started == 1
    assert len(flight) == 0


async def test_keys_do_not_share_and_an_ended_call_is_not_kept() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    upstream = Upstream()
    upstream.release.set()
    both = await asyncio.gather(flight.run("a", upstream), flight.run("b", upstream))
    assert list(both) == [1, 2]
    assert await flight.run("a", upstream) == 3


async def test_a_failure_reaches_every_caller_and_is_not_kept() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0
    gate = asyncio.Event()

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise ValueError("upstream down")

    waiting = [asyncio.create_task(flight.run("a", failing)) for _ in range(3)]
    await until_in_flight(flight, "a")
    gate.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert [str(o) for o in outcomes] == ["upstream down"] * 3
    assert calls == 1
    with pytest.raises(ValueError, match="upstream down"):
        await flight.run("a", failing)
    assert calls == 2


async def test_a_caller_leaving_does_not_cancel_the_call_of_the_others() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    upstream = Upstream()
    leaving = asyncio.create_task(flight.run("a", upstream))
    staying = asyncio.create_task(flight.run("a", upstream))
    await until_in_flight(flight, "a")
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    upstream.release.set()
    assert await staying == 1
    assert upstream.started == 1


async def test_forget_lets_the_next_caller_start_anew() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    upstream = Upstream()
    early = asyncio.create_task(flight.run("a", upstream))
    await until_in_flight(flight, "a")
    flight.forget("a")
    late = asyncio.create_task(flight.run("a", upstream))
    await until_in_flight(flight, "a")
    upstream.release.set()
    # The forgotten call still answers its caller; the later caller had its own.
    assert (await early, await late) == (1, 2)
    assert len(flight) == 0

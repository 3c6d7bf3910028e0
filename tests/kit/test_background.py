"""Supervised background loops (kit/background.py): restart with backoff and jitter after
a crash, the cause logged, a graceful stop that finishes the item in hand, cancellation
after the grace period, and nothing left pending."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections.abc import Awaitable, Callable

import pytest

from tunedeck.kit.background import Backoff, SupervisedTask, wait_any

LOGGER = "tests.kit.background"


class FixedRandom(random.Random):
    """random() always returns ``value``: jitter made predictable."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def crash_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and "crashed" in r.getMessage()]


def logged_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    # The record's arguments: name, seconds the run lasted, cause, restart number, delay.
    delays = []
    for record in crash_records(caplog):
        assert isinstance(record.args, tuple)
        delay = record.args[-1]
        assert isinstance(delay, float)
        delays.append(delay)
    return delays


async def eventually(check: Callable[[], bool], what: str) -> None:
    for _ in range(3000):  # a liveness limit, never a measurement
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what}: not reached")


def test_backoff_doubles_up_to_the_cap() -> None:
    backoff = Backoff(initial=1.0, maximum=10.0, factor=2.0, jitter=0.5)
    assert [backoff.ceiling(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert backoff.ceiling(10_000) == 10.0  # no overflow after very many failures
    # Jitter lowers a delay by at most half of it, never raises it.
    assert backoff.delay(3, FixedRandom(0.0)) == 4.0
    assert backoff.delay(3, FixedRandom(0.999999)) == pytest.approx(2.0, abs=1e-5)
    rng = random.Random(7)
    delays = [backoff.delay(4, rng) for _ in range(200)]
    assert all(4.0 <= d <= 8.0 for d in delays)
    assert len(set(delays)) > 100  # spread, not lockstep
    assert Backoff(initial=1.0, jitter=0.0).delay(2) == 2.0


@pytest.mark.parametrize(
    "fields",
    [{"initial": 0.0}, {"initial": 5.0, "maximum": 1.0}, {"factor": 0.5}, {"jitter": 1.5}],
)
def test_backoff_refuses_nonsense(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**fields)


async def test_a_crashing_loop_is_restarted_with_growing_delays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = 0
    healthy = asyncio.Event()

    async def loop(stopping: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        if runs <= 3:
            raise ValueError(f"boom {runs}")
        healthy.set()
        await stopping.wait()

    task = SupervisedTask(
        "crashy",
        loop,
        backoff=Backoff(initial=0.01, maximum=0.03, jitter=0.5),
        logger=logging.getLogger(LOGGER),
        rng=FixedRandom(0.0),
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        async with task:
            await asyncio.wait_for(healthy.wait(), 30)
            assert task.running
    assert runs == 4
    assert task.restarts == 3
    assert task.last_failure == "ValueError: boom 3"
    assert logged_delays(caplog) == [0.01, 0.02, 0.03]  # doubled, then capped
    messages = [r.getMessage() for r in crash_records(caplog)]
    assert [("ValueError: boom" in m, f"restart {n}" in m) for n, m in enumerate(messages, 1)] == [
        (True, True)
    ] * 3
    assert not task.running


async def test_backoff_starts_over_after_a_long_run(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    # How long each run lasts (by the fake clock) before it crashes.
    lasted = iter([0.0, 0.0, 100.0, 0.0])
    done = asyncio.Event()

    async def loop(stopping: asyncio.Event) -> None:
        seconds = next(lasted, None)
        if seconds is None:
            done.set()
            await stopping.wait()
            return
        clock.now += seconds
        raise RuntimeError("flaky dependency")

    task = SupervisedTask(
        "resets",
        loop,
        backoff=Backoff(initial=0.01, maximum=1.0, jitter=0.0),
        reset_after=60.0,
        logger=logging.getLogger(LOGGER),
        clock=clock,
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with task:
            await asyncio.wait_for(done.wait(), 30)
    # The third run lasted past reset_after: its crash is a first failure again.
    assert logged_delays(caplog) == [0.01, 0.02, 0.01, 0.02]


async def test_a_traceback_is_logged_once_per_distinct_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[type[Exception]] = [ValueError, ValueError, KeyError, KeyError, ValueError]
    done = asyncio.Event()

    async def loop(stopping: asyncio.Event) -> None:
        if not failures:
            done.set()
            await stopping.wait()
            return
        kind = failures.pop(0)
        if kind is ValueError:
            raise ValueError("bad value 42")
        raise KeyError("missing")

    task = SupervisedTask(
        "tracebacks",
        loop,
        backoff=Backoff(initial=0.001, maximum=0.001),
        logger=logging.getLogger(LOGGER),
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with task:
            await asyncio.wait_for(done.wait(), 30)
    records = crash_records(caplog)
    assert [r.exc_info is not None for r in records] == [True, False, True, False, False]
    assert "KeyError: 'missing'" in records[2].getMessage()


async def test_stop_lets_the_item_in_hand_finish() -> None:
    items: asyncio.Queue[str] = asyncio.Queue()
    working = asyncio.Event()
    release = asyncio.Event()
    handled: list[str] = []
    cancelled = False

    async def loop(stopping: asyncio.Event) -> None:
        nonlocal cancelled
        try:
            while not stopping.is_set():
                get = asyncio.ensure_future(items.get())
                stop = asyncio.ensure_future(stopping.wait())
                await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if not get.done():
                    get.cancel()
                    await asyncio.gather(get, stop, return_exceptions=True)
                    return
                working.set()
                await release.wait()  # the item in hand, e.g. a batch being written
                handled.append(get.result())
        except asyncio.CancelledError:
            cancelled = True
            raise

    task = SupervisedTask("graceful", loop, grace=60.0)
    await task.start()
    await items.put("in hand")
    await asyncio.wait_for(working.wait(), 30)
    stopper = asyncio.create_task(task.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    assert task.stopping.is_set()
    assert not stopper.done()  # waits for the item, does not cancel it
    release.set()
    await asyncio.wait_for(stopper, 30)
    assert handled == ["in hand"]
    assert not cancelled
    assert not task.running


async def test_a_loop_ignoring_the_stop_is_cancelled_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = asyncio.Event()
    cancelled = False

    async def stubborn(stopping: asyncio.Event) -> None:
        nonlocal cancelled
        started.set()
        try:
            await asyncio.Event().wait()  # never looks at stopping
        except asyncio.CancelledError:
            cancelled = True
            raise

    task = SupervisedTask("stubborn", stubborn, grace=0.05, logger=logging.getLogger(LOGGER))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await task.start()
        await asyncio.wait_for(started.wait(), 30)
        await task.stop()
    assert cancelled
    assert not task.running
    assert any("did not stop within" in r.getMessage() for r in caplog.records)


async def test_stop_while_waiting_to_restart(caplog: pytest.LogCaptureFixture) -> None:
    runs = 0

    async def loop(stopping: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        raise OSError("database gone")

    # A restart an hour away: the stop must not wait for it, nor need a cancel.
    task = SupervisedTask(
        "waiting",
        loop,
        backoff=Backoff(initial=3600.0, maximum=3600.0),
        grace=30.0,
        logger=logging.getLogger(LOGGER),
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await task.start()
        await eventually(lambda: task.restarts == 1, "first crash")
        await asyncio.wait_for(task.stop(), 10)
    assert runs == 1
    assert not task.running
    assert not any("did not stop" in r.getMessage() for r in caplog.records)


async def test_a_loop_that_returns_is_done(caplog: pytest.LogCaptureFixture) -> None:
    runs = 0

    async def once(stopping: asyncio.Event) -> None:
        nonlocal runs
        runs += 1

    task = SupervisedTask("once", once, logger=logging.getLogger(LOGGER))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        await task.start()
        await eventually(lambda: not task.running, "the loop returned")
        await task.stop()
    assert runs == 1
    assert task.restarts == 0
    assert any("finished" in r.getMessage() for r in caplog.records)


async def test_a_crash_while_stopping_is_logged_and_not_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = 0

    async def loop(stopping: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        await stopping.wait()
        raise RuntimeError("flush failed")

    task = SupervisedTask("last-words", loop, logger=logging.getLogger(LOGGER))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with task:
            await eventually(lambda: runs == 1, "running")
    assert runs == 1
    assert task.restarts == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "RuntimeError: flush failed" in errors[0].getMessage()


async def test_a_stopped_task_can_start_again() -> None:
    runs = 0

    async def loop(stopping: asyncio.Event) -> None:
        nonlocal runs
        runs += 1
        await stopping.wait()

    task = SupervisedTask("again", loop)
    for n in (1, 2):
        async with task:
            await eventually(lambda: runs == n, f"run {n}")  # noqa: B023
    assert runs == 2
    assert not task.running
    await task.stop()  # stopping a stopped task is harmless


async def test_wait_any() -> None:
    first, second = asyncio.Event(), asyncio.Event()
    before = len(asyncio.all_tasks())
    assert not await wait_any(first, second, within=0.01)
    asyncio.get_running_loop().call_soon(second.set)
    assert await wait_any(first, second, within=30)
    assert await wait_any(second)  # already set
    assert len(asyncio.all_tasks()) == before  # no waiter left behind


def scenario_in_own_loop(scenario: Callable[[], Awaitable[None]]) -> set[asyncio.Task[object]]:
    """Run ``scenario`` in a loop of its own that is then closed WITHOUT cancelling what is
    left (asyncio.run would cancel it and hide the leak); return the tasks left pending."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(scenario())
        return set(asyncio.all_tasks(loop))
    finally:
        loop.close()


def test_nothing_is_left_pending(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async def patient(stopping: asyncio.Event) -> None:
            while not stopping.is_set():
                await wait_any(stopping, within=10)

        async def crashing(stopping: asyncio.Event) -> None:
            raise ValueError("always")

        async def stubborn(stopping: asyncio.Event) -> None:
            await asyncio.Event().wait()

        tasks = [
            SupervisedTask("patient", patient),
            SupervisedTask("crashing", crashing, backoff=Backoff(initial=10, maximum=10)),
            SupervisedTask("stubborn", stubborn, grace=0.01),
        ]
        for task in tasks:
            await task.start()
        await asyncio.sleep(0.05)
        for task in tasks:
            await task.stop()

    with caplog.at_level(logging.WARNING):
        left = scenario_in_own_loop(scenario)
        gc.collect()
    assert left == set()
    assert "Task was destroyed but it is pending" not in caplog.text
    # The check can fail: a task abandoned mid-wait is reported exactly so.
    with caplog.at_level(logging.WARNING):

        async def abandon() -> None:
            abandoned.append(asyncio.create_task(asyncio.Event().wait()))
            await asyncio.sleep(0)

        abandoned: list[asyncio.Task[bool]] = []

        assert len(scenario_in_own_loop(abandon)) == 1
        abandoned.clear()
        gc.collect()
    assert "Task was destroyed but it is pending" in caplog.text

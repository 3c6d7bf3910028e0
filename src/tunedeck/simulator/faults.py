"""Injected misbehaviour: latency, 5xx answers, rate limits, quota, odd command statuses,
and the hold that makes concurrent requests meet."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from starlette.responses import Response

from tunedeck.simulator.errors import SpotifyError
from tunedeck.simulator.state import SimulatorState, Stats

RATE_WINDOW_SECONDS = 30.0
#: Longest a request waits for the others under ``hold_until_concurrent`` before going on.
HOLD_TIMEOUT_SECONDS = 10.0
#: A request held by ``hold_requests`` looks at the knob this often, and gives up waiting
#: after the limit (a test that forgot to release its requests must not hang the suite).
HELD_POLL_SECONDS = 0.01
HELD_LIMIT_SECONDS = 120.0
#: A request delayed by ``latency_ms`` looks at the knob this often.
LATENCY_POLL_SECONDS = 0.05
#: Retry-After (seconds) of the quota-exceeded variant: a day, as when an app's quota is gone.
QUOTA_RETRY_AFTER = 86_400
_SERVER_ERRORS = (
    (500, "Server error."),
    (502, "Bad gateway."),
    (503, "Service unavailable"),
)


async def delay(sim: SimulatorState) -> None:
    """Sleep for the configured latency, if any. Lowering the knob (or a reset) cuts the
    sleeps in progress short: requests a test left waiting (its client gave up on them)
    do not outlive it, nor hold the server's shutdown."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    # The knob is a plain value changed by the control API: looked at, as ``held`` does.
    while (remaining := started + sim.config.latency_ms / 1000 - loop.time()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(min(remaining, LATENCY_POLL_SECONDS))


async def held(sim: SimulatorState) -> None:
    """Wait while the ``hold_requests`` knob is on (at most ``HELD_LIMIT_SECONDS``)."""
    for _ in range(int(HELD_LIMIT_SECONDS / HELD_POLL_SECONDS)):
        if not sim.config.hold_requests:
            return
        await asyncio.sleep(HELD_POLL_SECONDS)


async def hold(sim: SimulatorState, stats: Stats) -> None:
    """Under ``hold_until_concurrent = n``, wait until n Web API requests have been in
    flight at once (or ``HOLD_TIMEOUT_SECONDS`` passed). Requests made one after the other
    never meet, so each of them waits the whole timeout and ``max_in_flight`` stays 1."""
    wanted = sim.config.hold_until_concurrent
    if wanted <= 1:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stats.reached(wanted).wait(), HOLD_TIMEOUT_SECONDS)


def check_limits(sim: SimulatorState, client_id: str) -> None:
    """Raise the 429 or 5xx this Web API request should get, if any."""
    config = sim.config
    if config.quota_exceeded:
        raise SpotifyError(
            429,
            "API rate limit exceeded: quota exceeded for this app",
            reason="QUOTA_EXCEEDED",
            headers={"Retry-After": str(max(QUOTA_RETRY_AFTER, config.rate_limit_retry_after))},
        )
    if config.rate_limit_per_30s is not None:
        now = sim.now()
        window = sim.rate_windows.setdefault(client_id, deque())
        while window and window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= config.rate_limit_per_30s:
            raise SpotifyError(
                429,
                "API rate limit exceeded",
                headers={"Retry-After": str(config.rate_limit_retry_after)},
            )
        window.append(now)
    if config.error_rate > 0 and sim.fault_rng.random() < config.error_rate:
        status, message = sim.fault_rng.choice(_SERVER_ERRORS)
        raise SpotifyError(status, message)


def command_response(sim: SimulatorState) -> Response:
    """What a successful player command answers: 204, 202, or 200 with a short text body."""
    status = sim.config.command_status
    if status == 200:
        return Response("Command sent", status_code=200, media_type="text/plain")
    return Response(status_code=status)

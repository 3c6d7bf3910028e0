"""Failed sign-ins are throttled per client address, at every door that takes a
credential: REST, the session sign-in, GraphQL over HTTP and WebSocket, the live feed
(WebSocket and SSE), the overlay's art. A throttled address is refused even with a good
credential, until it has earned an attempt back; other addresses, and good credentials
used many times, are never slowed. In memory (one process) and in Redis (shared)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.accounts.conftest import Caller, MakeCaller
from tests.ops.test_metrics import parse, value
from tests.realtime.feed_support import serve_here
from tests.realtime.graphql_support import GRAPHQL_WS, graphql_ws_url
from tests.realtime.support import LIVENESS
from tests.support.app import asgi_client, replaced
from tunedeck.accounts.throttle import FailedLogins
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.token_bucket import Available, Bucket, MemoryBuckets, Rate
from tunedeck.realtime.serving import uvicorn_options
from tunedeck.runtime import app_runtime

BURST = 3
SLOW = 0.001
"""Attempts earned back per second: none within a test, unless its clock moves."""
WRONG = "tdk_not-a-real-key"
ME = "/v1/me"
HOME = ("203.0.113.10", 5000)
ELSEWHERE = ("198.51.100.20", 5000)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def throttled(settings: Settings, **fields: Any) -> AsyncIterator[FastAPI]:
    """The app with a failure burst of ``BURST``, earning nothing back meanwhile."""
    update = {"auth_failure_burst": BURST, "auth_failures_per_second": SLOW, **fields}
    app = create_app(settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        yield app


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "too_many_failed_logins"
    assert error["message"].startswith("Too many failed sign-ins from this address")
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    assert error["details"]["retry_after"] == seconds


async def test_failures_throttle_their_address_and_nobody_else(
    settings: Settings, make_caller: MakeCaller
) -> None:
    good = await make_caller("spotify:read")
    async with (
        throttled(settings) as app,
        asgi_client(app, client=HOME) as home,
        asgi_client(app, client=ELSEWHERE) as elsewhere,
    ):
        for _ in range(BURST):
            assert (await home.get(ME, headers=bearer(WRONG))).status_code == 401
        assert_throttled(await home.get(ME, headers=bearer(WRONG)))
        # While throttled, a good key from the same address is refused too, unchecked.
        assert_throttled(await home.get(ME, headers=bearer(good.key)))
        # Another address: its good key works and its wrong keys get their own 401s.
        assert (await elsewhere.get(ME, headers=good.headers)).status_code == 200
        assert (await elsewhere.get(ME, headers=bearer(WRONG))).status_code == 401
        # No credential at all is no failed sign-in, and is answered as ever.
        assert (await home.get(ME)).status_code == 401


async def test_a_throttled_address_is_served_again_once_it_earned_an_attempt(
    settings: Settings, make_caller: MakeCaller
) -> None:
    good = await make_caller("spotify:read")
    async with throttled(settings) as app, asgi_client(app, client=HOME) as home:
        clock = Clock()
        fields = {"auth_failure_burst": BURST, "auth_failures_per_second": 1.0}
        throttle = FailedLogins.from_settings(
            settings.model_copy(update=fields), metrics=app_runtime(app).metrics, clock=clock
        )
        with replaced(app, failed_logins=throttle):
            for _ in range(BURST):
                await home.get(ME, headers=bearer(WRONG))
            refused = await home.get(ME, headers=good.headers)
            assert_throttled(refused)
            assert refused.headers["Retry-After"] == "1"
            clock.now += 1.0
            assert (await home.get(ME, headers=good.headers)).status_code == 200
            # One attempt earned back, and a good key spends none: still one to fail with.
            assert (await home.get(ME, headers=good.headers)).status_code == 200
            assert (await home.get(ME, headers=bearer(WRONG))).status_code == 401
            assert_throttled(await home.get(ME, headers=good.headers))
        await throttle.close()


async def test_good_credentials_spend_nothing(settings: Settings, make_caller: MakeCaller) -> None:
    good = await make_caller("spotify:read")
    async with throttled(settings) as app, asgi_client(app, client=HOME) as home:
        answers = await asyncio.gather(*(home.get(ME, headers=good.headers) for _ in range(40)))
        assert [a.status_code for a in answers] == [200] * 40
        for _ in range(BURST):
            assert (await home.get(ME, headers=bearer(WRONG))).status_code == 401


async def test_wrong_keys_sent_at_once_each_need_an_attempt(settings: Settings) -> None:
    """Checked before the lookup, not counted after it: a flood of concurrent wrong
    keys gets no more lookups than the burst."""
    async with throttled(settings) as app, asgi_client(app, client=HOME) as home:
        answers = await asyncio.gather(
            *(home.get(ME, headers=bearer(f"tdk_guess-{n}")) for n in range(30))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * BURST + [429] * (30 - BURST)


class CountedBuckets(MemoryBuckets):
    """Buckets in memory that count how often an attempt read one."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def available(self, bucket: Bucket) -> Available:
        self.reads += 1
        return await super().available(bucket)


SCOPE = {"type": "http", "client": HOME, "headers": []}


async def test_attempts_waiting_for_an_address_are_woken_one_per_lookup_that_ends() -> None:
    """Ten thousand good clients of one address (overlays behind one NAT, a restart's
    reconnections) wait for the burst's lookups: each end wakes one waiting attempt,
    not all of them, so each attempt reads its bucket about once, not once per wake."""
    store = CountedBuckets()
    throttle = FailedLogins(store, Rate(SLOW, BURST))
    most_at_once = 0
    inside = 0

    async def attempt() -> None:
        nonlocal inside, most_at_once
        async with throttle.attempt(SCOPE):
            inside += 1
            most_at_once = max(most_at_once, inside)
            await asyncio.sleep(0)  # the lookup
            inside -= 1

    attempts = 300
    await asyncio.gather(*(attempt() for _ in range(attempts)))
    assert most_at_once == BURST
    # One read to start, one more after being woken; every wake woke all waiters before:
    # some attempts x attempts / BURST (30,000 here).
    assert store.reads <= 2 * attempts
    assert not throttle._waiting
    assert not throttle._under_way
    assert not throttle._woken


async def test_a_cancelled_waiting_attempt_passes_its_turn_on() -> None:
    store = CountedBuckets()
    throttle = FailedLogins(store, Rate(SLOW, 1))
    release = asyncio.Event()
    served: list[int] = []

    async def attempt(n: int) -> None:
        async with throttle.attempt(SCOPE):
            served.append(n)
            await release.wait()

    first = asyncio.create_task(attempt(0))
    waiting = [asyncio.create_task(attempt(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)  # each has read its bucket and waits, in the order they came
    assert len(throttle._waiting["failed:203.0.113.10"]) == 3
    waiting[0].cancel()  # the first in line leaves before its turn
    release.set()
    await asyncio.gather(first, waiting[1], waiting[2])
    assert served == [0, 2, 3]
    assert waiting[0].cancelled()


Door = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


def _graphql(client: httpx.AsyncClient, secret: str) -> Awaitable[httpx.Response]:
    return client.post(
        "/graphql", json={"query": "{ spotifyDevices { id } }"}, headers=bearer(secret)
    )


HTTP_DOORS: dict[str, Door] = {
    "rest": lambda client, secret: client.get(ME, headers=bearer(secret)),
    "session sign-in": lambda client, secret: client.post("/v1/session", json={"key": secret}),
    "graphql over http": _graphql,
    "live feed over sse": lambda client, secret: client.get(
        "/v1/spotify/live", headers={**bearer(secret), "Accept": "text/event-stream"}
    ),
    "overlay art": lambda client, secret: client.get(
        "/overlay/art", params={"url": "https://i.scdn.co/image/x"}, headers=bearer(secret)
    ),
    "session cookie": lambda client, secret: client.get(
        ME, headers={"Cookie": f"tunedeck_session={secret.replace('tdk_', 'tds_')}"}
    ),
}


@pytest.mark.parametrize("door", HTTP_DOORS)
async def test_every_http_door_is_throttled(
    settings: Settings, make_caller: MakeCaller, door: str
) -> None:
    good = await make_caller("spotify:read")
    call = HTTP_DOORS[door]
    async with throttled(settings) as app, asgi_client(app, client=HOME) as home:
        for _ in range(BURST):
            answer = await call(home, WRONG)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"] == "unauthorized"
        assert_throttled(await call(home, WRONG))
        # The failures of one door throttle the address at the others.
        assert_throttled(await home.get(ME, headers=good.headers))
        assert_throttled(await home.post("/v1/session", json={"key": good.key}))


async def socket_close(url: str, *, first: str | None = None, **options: Any) -> tuple[int, str]:
    """Connect, send ``first``, and return how the server closed the socket."""
    async with connect(url, open_timeout=LIVENESS, **options) as ws:
        if first is not None:
            await ws.send(first)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), LIVENESS)
        except ConnectionClosed:
            pass
        assert ws.close_code is not None
        return ws.close_code, ws.close_reason or ""


async def test_the_websocket_doors_are_throttled(settings: Settings) -> None:
    """The live feed and GraphQL's ``connection_init``: 4401 for a wrong credential, then
    4429 once the address is throttled; addresses named by a proxy on this machine."""
    home = {"X-Forwarded-For": HOME[0]}
    app = create_app(
        settings.model_copy(update={"auth_failure_burst": BURST, "auth_failures_per_second": SLOW})
    )
    async with serve_here(app, **uvicorn_options(settings)) as base:
        feed = base.replace("http://", "ws://") + "/v1/spotify/live"
        graphql = graphql_ws_url(base)
        auth = json.dumps({"type": "auth", "token": WRONG})
        init = json.dumps({"type": "connection_init", "payload": {"token": WRONG}})
        graphql_options: dict[str, Any] = {"subprotocols": [GRAPHQL_WS]}
        attempts = [
            socket_close(feed, first=auth, additional_headers=home),
            socket_close(f"{feed}?token={WRONG}", additional_headers=home),
            socket_close(graphql, first=init, additional_headers=home, **graphql_options),
        ]
        for attempt in attempts:
            code, _ = await attempt
            assert code == 4401
        feed_code, feed_reason = await socket_close(feed, first=auth, additional_headers=home)
        graphql_code, graphql_reason = await socket_close(
            graphql, first=init, additional_headers=home, **graphql_options
        )
        assert (feed_code, graphql_code) == (4429, 4429)
        for reason in (feed_reason, graphql_reason):
            assert reason.startswith("Too many failed sign-ins from this address; retry after")
        # Another address is not affected.
        elsewhere = {"X-Forwarded-For": ELSEWHERE[0]}
        assert (await socket_close(feed, first=auth, additional_headers=elsewhere))[0] == 4401

        async with httpx.AsyncClient(base_url=base) as http:
            samples = parse((await http.get("/metrics")).text)
        failures = "tunedeck_auth_failures_total"
        assert value(samples, failures, transport="websocket") == 4
        assert value(samples, "tunedeck_auth_throttled_total", transport="websocket") == 2


async def test_failures_and_refusals_are_counted(settings: Settings) -> None:
    async with throttled(settings) as app, asgi_client(app, client=HOME) as home:
        for _ in range(BURST + 2):
            await home.get(ME, headers=bearer(WRONG))
        async with asgi_client(app) as local:
            samples = parse((await local.get("/metrics")).text)
    assert value(samples, "tunedeck_auth_failures_total", transport="http") == BURST
    assert value(samples, "tunedeck_auth_throttled_total", transport="http") == 2


async def test_redis_shares_the_buckets_between_processes(
    settings: Settings, redis_url: str, make_caller: MakeCaller
) -> None:
    good: Caller = await make_caller("spotify:read")
    shared = {"redis_url": redis_url, "redis_namespace": f"test-{uuid.uuid4().hex[:12]}"}
    async with (
        throttled(settings, **shared) as one,
        throttled(settings, **shared) as two,
        asgi_client(one, client=HOME) as home_one,
        asgi_client(two, client=HOME) as home_two,
        asgi_client(two, client=ELSEWHERE) as elsewhere_two,
    ):
        for _ in range(BURST):
            assert (await home_one.get(ME, headers=bearer(WRONG))).status_code == 401
        assert_throttled(await home_two.get(ME, headers=good.headers))
        assert (await elsewhere_two.get(ME, headers=good.headers)).status_code == 200


async def test_the_throttle_can_be_turned_off(settings: Settings) -> None:
    async with throttled(settings, auth_throttle=False) as app, asgi_client(app) as home:
        for _ in range(BURST * 3):
            assert (await home.get(ME, headers=bearer(WRONG))).status_code == 401

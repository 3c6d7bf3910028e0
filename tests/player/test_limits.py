"""Rate limits of the player, through REST and GraphQL: a runaway key gets 429 with
``Retry-After`` and ``too_many_requests``, its account's other keys go on until the
account's own limit, reads have a limit of their own, and Spotify (the simulator's
request log) never hears of a refused call.

Rates of one token per 1000 s make every refill far away: a test exhausts a burst and
what follows is decided, whatever the machine's speed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts.conftest import MakeCaller
from tests.player.conftest import ALL, MakeStreamer, Streamer, connect_account, player_settings
from tests.player.support import catalog_tracks, events_of
from tests.support.app import asgi_client
from tests.support.redis_server import OwnRedis, own_redis
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit import token_bucket
from tunedeck.kit.db import Database
from tunedeck.player.limits import CallKind, LimitScope
from tunedeck.runtime import app_runtime

__all__ = ["own_redis"]

SLOW = 0.001  # one token per 1000 s
KEY_COMMANDS, ACCOUNT_COMMANDS, KEY_READS = 2, 3, 4
TIGHT: dict[str, Any] = {
    "rate_limit_key_commands_per_second": SLOW,
    "rate_limit_key_command_burst": KEY_COMMANDS,
    "rate_limit_account_commands_per_second": SLOW,
    "rate_limit_account_command_burst": ACCOUNT_COMMANDS,
    "rate_limit_key_reads_per_second": SLOW,
    "rate_limit_key_read_burst": KEY_READS,
    "rate_limit_account_reads_per_second": SLOW,
    "rate_limit_account_read_burst": 100,
}
TOO_MANY = "too_many_requests"


@dataclass
class Outcome:
    """One call's answer in either door: HTTP status, error code, the wait it names."""

    status: int
    code: str | None = None
    message: str = ""
    retry_after_header: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status < 400 and self.code is None

    def assert_refused(self, kind: str, scope: LimitScope) -> None:
        assert (self.status, self.code) == (429, TOO_MANY), self
        seconds = self.details["retry_after"]
        assert isinstance(seconds, int)
        # The next token is 1000 s away (minus the test's own run time).
        assert 900 <= seconds <= 1000
        assert self.retry_after_header == str(seconds)
        assert f"the {kind} limit" in self.message
        assert "Nothing was sent to Spotify" in self.message
        who = "This API key" if scope is LimitScope.KEY else "This account's keys together"
        assert self.message.startswith(who), self.message


async def rest_call(
    client: httpx.AsyncClient, headers: dict[str, str], kind: str, uri: str = ""
) -> Outcome:
    if kind == "command":
        response = await client.post("/v1/spotify/queue", json={"uri": uri}, headers=headers)
    else:
        response = await client.get("/v1/spotify/devices", headers=headers)
    if response.status_code < 400:
        return Outcome(response.status_code)
    error = response.json()["error"]
    return Outcome(
        response.status_code,
        error["code"],
        error["message"],
        response.headers.get("retry-after"),
        error.get("details") or {},
    )


QUEUE_ADD = "mutation Add($uri: String!) { spotifyQueue(uri: $uri) { action } }"
DEVICES = "query { spotifyDevices { id } }"


async def graphql_call(
    client: httpx.AsyncClient, headers: dict[str, str], kind: str, uri: str = ""
) -> Outcome:
    query, variables = (QUEUE_ADD, {"uri": uri}) if kind == "command" else (DEVICES, {})
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    if not body.get("errors"):
        assert response.status_code == 200, response.text
        return Outcome(200)
    (error,) = body["errors"]
    extensions = error["extensions"]
    # The HTTP status itself says 429 when nothing of the request was served.
    assert response.status_code == (429 if extensions["status"] == 429 else 200)
    return Outcome(
        extensions["status"],
        extensions["code"],
        error["message"],
        response.headers.get("retry-after"),
        extensions.get("details") or {},
    )


async def call(
    door: str, client: httpx.AsyncClient, headers: dict[str, str], kind: str, uri: str = ""
) -> Outcome:
    send = rest_call if door == "rest" else graphql_call
    return await send(client, headers, kind, uri)


def queue_posts(sim: Sim) -> list[str]:
    """The tracks Spotify was asked to queue, in order."""
    return [
        r["query"]["uri"]
        for r in sim.requests()
        if r["method"] == "POST" and r["path"].endswith("/me/player/queue")
    ]


def refusals(scraped: str, scope: str) -> float:
    """The command refusals of ``scope`` in a ``/metrics`` text."""
    line = f'tunedeck_rate_limit_refusals_total{{kind="command",scope="{scope}"}} '
    (value,) = [row[len(line) :] for row in scraped.splitlines() if row.startswith(line)]
    return float(value)


def spotify_heard(sim: Sim) -> tuple[Any, ...]:
    """Everything the simulator counted and logged (token requests included)."""
    return (sim.stats(), sim.requests())


async def test_a_runaway_key_is_refused_before_spotify_hears_of_it(
    door_name: str, make_app: Any, streamer: Streamer, sim: Sim
) -> None:
    uris = catalog_tracks(sim, 5)
    async with make_app(**TIGHT) as client:
        for uri in uris[:KEY_COMMANDS]:
            assert (await call(door_name, client, streamer.headers, "command", uri)).ok
        heard = spotify_heard(sim)
        for uri in uris[KEY_COMMANDS:]:
            refused = await call(door_name, client, streamer.headers, "command", uri)
            refused.assert_refused("command", LimitScope.KEY)
        assert spotify_heard(sim) == heard
        assert queue_posts(sim) == uris[:KEY_COMMANDS]
        # No event for a refused command (the listing is a read, within its own limit).
        events = await events_of(client, streamer.headers, count=KEY_COMMANDS)
        assert [e["params"]["uri"] for e in events] == uris[:KEY_COMMANDS][::-1]


async def test_other_keys_go_on_until_the_account_limit(
    door_name: str,
    make_app: Any,
    streamer: Streamer,
    make_caller: MakeCaller,
    make_streamer: MakeStreamer,
    sim: Sim,
) -> None:
    moderator = await make_caller(*ALL, account=streamer.caller.account)
    helper = await make_caller(*ALL, account=streamer.caller.account)
    elsewhere = await make_streamer()  # another account, with buckets of its own
    uris = catalog_tracks(sim, 9)
    async with make_app(**TIGHT) as client:
        for uri in uris[:2]:
            assert (await call(door_name, client, streamer.headers, "command", uri)).ok
        runaway = await call(door_name, client, streamer.headers, "command", uris[2])
        runaway.assert_refused("command", LimitScope.KEY)
        # Another key of the account is served: its refusals cost the account nothing.
        assert (await call(door_name, client, moderator.headers, "command", uris[3])).ok
        # Three commands of the account: every key of it is now refused, by the account.
        heard = spotify_heard(sim)
        for caller, uri in ((moderator, uris[4]), (helper, uris[5])):
            refused = await call(door_name, client, caller.headers, "command", uri)
            refused.assert_refused("command", LimitScope.ACCOUNT)
        assert spotify_heard(sim) == heard
        # Another account's keys are not limited by this one.
        assert (await call(door_name, client, elsewhere.headers, "command", uris[6])).ok
        assert queue_posts(sim) == [uris[0], uris[1], uris[3], uris[6]]
        # The operator sees the refusals, by kind and by whose bucket ran out.
        scraped = (await client.get("/metrics")).text
        assert refusals(scraped, "key") == 1
        assert refusals(scraped, "account") == 2


async def test_reads_have_their_own_looser_limit(
    door_name: str, make_app: Any, streamer: Streamer, sim: Sim
) -> None:
    uris = catalog_tracks(sim, 3)
    async with make_app(**TIGHT) as client:
        for uri in uris[:KEY_COMMANDS]:
            assert (await call(door_name, client, streamer.headers, "command", uri)).ok
        refused = await call(door_name, client, streamer.headers, "command", uris[2])
        refused.assert_refused("command", LimitScope.KEY)
        # Commands spent: reads are still served, up to their own (larger) burst.
        for _ in range(KEY_READS):
            assert (await call(door_name, client, streamer.headers, "read")).ok
        heard = spotify_heard(sim)
        refused = await call(door_name, client, streamer.headers, "read")
        refused.assert_refused("read", LimitScope.KEY)
        assert spotify_heard(sim) == heard


def test_reads_are_limited_more_loosely_than_commands_by_default() -> None:
    defaults = Settings()
    assert defaults.rate_limits
    assert defaults.rate_limit_key_reads_per_second > defaults.rate_limit_key_commands_per_second
    assert defaults.rate_limit_key_read_burst > defaults.rate_limit_key_command_burst
    # Several moderators together may do more than one key alone.
    assert (
        defaults.rate_limit_account_commands_per_second
        > defaults.rate_limit_key_commands_per_second
    )
    assert defaults.rate_limit_account_command_burst > defaults.rate_limit_key_command_burst


async def test_each_aliased_mutation_spends_a_token(
    make_app: Any, streamer: Streamer, sim: Sim
) -> None:
    uris = catalog_tracks(sim, 3)
    calls = " ".join(f'a{n}: spotifyQueue(uri: "{uri}") {{ action }}' for n, uri in enumerate(uris))
    async with make_app(**TIGHT) as client:
        response = await client.post(
            "/graphql", json={"query": f"mutation {{ {calls} }}"}, headers=streamer.headers
        )
        # Two were served: the request as a whole is not refused (200), but one field is.
        assert response.status_code == 200, response.text
        (error,) = response.json()["errors"]
        assert error["path"] == ["a2"]
        assert (error["extensions"]["code"], error["extensions"]["status"]) == (TOO_MANY, 429)
        retry_after = error["extensions"]["details"]["retry_after"]
        assert response.headers["retry-after"] == str(retry_after)
        assert queue_posts(sim) == uris[:KEY_COMMANDS]


async def test_a_dashboard_session_spends_its_keys_tokens(
    make_app: Any, streamer: Streamer, sim: Sim
) -> None:
    uris = catalog_tracks(sim, 3)
    async with make_app(**TIGHT) as client:
        signed_in = await client.post("/v1/session", json={"key": streamer.caller.key})
        assert signed_in.status_code == 200, signed_in.text
        session = {"X-CSRF-Token": signed_in.json()["csrf_token"]}  # and the cookie
        assert (await rest_call(client, streamer.headers, "command", uris[0])).ok
        assert (await rest_call(client, session, "command", uris[1])).ok
        refused = await rest_call(client, session, "command", uris[2])
        refused.assert_refused("command", LimitScope.KEY)
        assert queue_posts(sim) == uris[:2]


async def test_no_limits_when_turned_off(make_app: Any, streamer: Streamer, sim: Sim) -> None:
    uris = catalog_tracks(sim, KEY_COMMANDS + 2)
    async with make_app(**TIGHT, rate_limits=False) as client:
        for uri in uris:
            assert (await rest_call(client, streamer.headers, "command", uri)).ok
    assert queue_posts(sim) == uris


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app, timeout=30) as client:
        yield app, client


@pytest.mark.postgres_only
async def test_two_processes_on_one_redis_share_the_limits(
    database_url: str, redis_url: str, sim: Sim, streamer: Streamer, tmp_path: Path
) -> None:
    uris = catalog_tracks(sim, 4)
    # One deployment of its own on the shared Redis: its buckets are its own.
    namespace = f"test-limits-{uuid.uuid4().hex}"
    settings = player_settings(
        database_url, redis_url, sim, tmp_path, redis_namespace=namespace, **TIGHT
    )
    async with running(settings) as (one, first), running(settings) as (two, second):
        assert (await rest_call(first, streamer.headers, "command", uris[0])).ok
        assert (await rest_call(second, streamer.headers, "command", uris[1])).ok
        for client in (first, second):
            refused = await rest_call(client, streamer.headers, "command", uris[2])
            refused.assert_refused("command", LimitScope.KEY)
        for app in (one, two):
            limits = app_runtime(app).request_limits
            assert limits is not None
            assert limits.refusals == {(CallKind.COMMAND, LimitScope.KEY): 1}
    assert queue_posts(sim) == uris[:2]


async def test_commands_go_through_while_redis_is_down(
    database_url: str,
    database: Database,
    own_redis: OwnRedis,
    sim: Sim,
    make_caller: MakeCaller,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caller = await make_caller(*ALL)
    await connect_account(database, sim, caller.account.id)
    uris = catalog_tracks(sim, 6)
    # Redis is the limits' store and the event bus: both lose it.
    settings = player_settings(database_url, own_redis.url, sim, tmp_path, **TIGHT)
    async with running(settings) as (app, client):
        for uri in uris[:KEY_COMMANDS]:
            assert (await rest_call(client, caller.headers, "command", uri)).ok
        refused = await rest_call(client, caller.headers, "command", uris[KEY_COMMANDS])
        refused.assert_refused("command", LimitScope.KEY)
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger=token_bucket.__name__):
            # Limits fail open: served (and counted), not refused.
            for uri in uris[KEY_COMMANDS + 1 :]:
                assert (await rest_call(client, caller.headers, "command", uri)).ok
        limits = app_runtime(app).request_limits
        assert limits is not None
        assert limits.unchecked == len(uris) - KEY_COMMANDS - 1
        logged = [r.getMessage() for r in caplog.records if r.name == token_bucket.__name__]
        # Once for the limits, once for the sign-in throttle (its own buckets, same Redis).
        assert sorted(line.split(":")[0] for line in logged) == ["rate limits", "sign-in throttle"]
        own_redis.start()  # the bus's last relay pass on the way out has its Redis
    served = [uri for i, uri in enumerate(uris) if i != KEY_COMMANDS]
    assert queue_posts(sim) == served

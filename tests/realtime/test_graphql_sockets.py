"""A GraphQL WebSocket is a live connection whether or not it holds a subscription:
withdrawing its credential (a key or an overlay token revoked, a session signed out,
ended by its key's revocation, or expired) closes it with 4401, with or without a
subscription, in every process; an operation sent on it once the credential is gone is
refused with an error code, records nothing and calls no Spotify; and a socket closing,
however it closes, is no error in the log. On both backends (two processes: PostgreSQL
and Redis)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from websockets.exceptions import InvalidStatus

from tests.realtime.feed_support import Keys, served
from tests.realtime.graphql_support import (
    NOW_PLAYING,
    PAUSE,
    PLAY,
    GraphQLSocketClient,
    events_recorded,
    graphql_socket,
)
from tests.realtime.recorder import Recorder
from tests.realtime.test_feed import streamer
from tests.realtime.test_feed_processes import serve_process
from tests.support import accounts as test_accounts
from tests.support.simulator import Sim
from tunedeck.accounts.models import DashboardSession
from tunedeck.accounts.secrets import hash_secret
from tunedeck.config import Settings
from tunedeck.kit.db import Database, utcnow

WITHDRAWALS = (
    "key revoked",
    "overlay token revoked",
    "signed out",
    "session's key revoked",
    "session expired",
)
NEVER = 3600.0
"""A revocation check interval no test outlives: only the check each operation makes can
refuse it."""


@dataclass
class Credential:
    """What a socket authenticated with, and how to withdraw it."""

    how: str
    keys: Keys
    token: str | None = None  # sent in connection_init
    cookie: str | None = None  # the dashboard's session cookie
    csrf: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"tunedeck_session={self.cookie}"} if self.cookie else {}

    @property
    def payload(self) -> dict[str, Any]:
        return {"token": self.token} if self.token else {}

    @property
    def probes(self) -> tuple[str, str]:
        """Two operations the credential may run, one after the other: commands (pause,
        then play) when it can, else now playing."""
        if self.how == "overlay token revoked":
            return NOW_PLAYING, NOW_PLAYING
        return PAUSE, PLAY


async def credential(how: str, keys: Keys, base: str) -> Credential:
    if how == "key revoked":
        return Credential(how, keys, token=keys.key)
    if how == "overlay token revoked":
        return Credential(how, keys, token=keys.overlay)
    async with httpx.AsyncClient(base_url=base) as http:
        answer = await http.post("/v1/session", json={"key": keys.key})
        assert answer.status_code == 200, answer.text
        return Credential(
            how, keys, cookie=answer.cookies["tunedeck_session"], csrf=answer.json()["csrf_token"]
        )


async def withdraw(credential: Credential, database: Database, base: str) -> None:
    """Withdraw the credential as its owner would: revocations as the command line makes
    them (in the database alone), the sign-out through the API."""
    keys = credential.keys
    if credential.how in ("key revoked", "session's key revoked"):
        await test_accounts.revoke_key(database, keys.key_id)
    elif credential.how == "overlay token revoked":
        await test_accounts.revoke_overlay_token(database, keys.overlay_id)
    async with database.session() as session:
        if credential.how == "session expired":
            assert credential.cookie is not None
            await session.execute(
                update(DashboardSession)
                .where(DashboardSession.token_hash == hash_secret(credential.cookie))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
    if credential.how == "signed out":
        assert credential.csrf is not None
        async with httpx.AsyncClient(base_url=base, headers=credential.headers) as http:
            answer = await http.delete("/v1/session", headers={"X-CSRF-Token": credential.csrf})
            assert answer.status_code == 204, answer.text


@asynccontextmanager
async def opened(
    credential: Credential, base: str, *, subscribed: bool
) -> AsyncIterator[GraphQLSocketClient]:
    """An acknowledged socket of ``credential``, holding a now playing subscription or none."""
    async with graphql_socket(base, headers=credential.headers) as socket:
        await socket.init(credential.payload)
        if subscribed:
            await socket.subscribe("live", NOW_PLAYING)
            assert (await socket.answer("live"))["type"] == "next"
        yield socket


def commands_sent(recorder: Recorder) -> list[str]:
    """The Spotify calls that would have changed something (the poller only reads)."""
    return [f"{r.method} {r.path}" for r in recorder.snapshot() if r.method != "GET"]


def assert_refused(answer: dict[str, Any]) -> None:
    assert answer["type"] == "error", answer
    (error,) = answer["payload"]
    assert error["extensions"] == {"code": "unauthorized", "status": 401}, error
    assert "revoked" in error["message"]


@pytest.mark.parametrize("subscribed", [False, True], ids=["idle", "subscribed"])
@pytest.mark.parametrize("how", WITHDRAWALS)
async def test_an_operation_after_the_credential_is_withdrawn_is_refused(
    settings: Settings,
    database: Database,
    sim: Sim,
    recorder: Recorder,
    how: str,
    subscribed: bool,
) -> None:
    keys = await streamer(database, sim)
    slow_checks = settings.model_copy(update={"live_revocation_seconds": NEVER})
    async with served(slow_checks) as server:
        cred = await credential(how, keys, server.base)
        async with opened(cred, server.base, subscribed=subscribed) as socket:
            # The same operation runs while the credential stands.
            before, after = cred.probes
            await socket.subscribe("before", before)
            assert (await socket.answer("before"))["type"] == "next"
            await socket.send({"id": "before", "type": "complete"})
            recorded = await events_recorded(database, keys.account_id)
            recorder.clear()
            await withdraw(cred, database, server.base)
            await socket.subscribe("after", after)
            assert_refused(await socket.answer("after"))
            assert await socket.wait_closed() == (4401, "credential revoked")
            assert [m["type"] for m in socket.of("after")] == ["error"]
    assert commands_sent(recorder) == []
    assert await events_recorded(database, keys.account_id) == recorded


@pytest.mark.parametrize("subscribed", [False, True], ids=["idle", "subscribed"])
@pytest.mark.parametrize("how", WITHDRAWALS)
async def test_withdrawing_the_credential_closes_the_socket(
    settings: Settings, database: Database, sim: Sim, how: str, subscribed: bool
) -> None:
    """Nothing sent after the withdrawal: the revocation checks close the socket (4401),
    a subscription on it with it."""
    keys = await streamer(database, sim)
    async with served(settings) as server:
        cred = await credential(how, keys, server.base)
        async with opened(cred, server.base, subscribed=subscribed) as socket:
            await withdraw(cred, database, server.base)
            assert await socket.wait_closed() == (4401, "credential revoked")
        # Nothing of the socket is left in the process.
        live = server.live
        assert live.revocations.credential_count == 0
        assert live.hub.connections(keys.account_id) == []


async def test_other_credentials_sockets_stay_open(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    async with served(settings) as server:
        overlay = await credential("overlay token revoked", keys, server.base)
        key = await credential("key revoked", keys, server.base)
        async with (
            opened(overlay, server.base, subscribed=False) as revoked,
            opened(key, server.base, subscribed=False) as kept,
        ):
            await withdraw(overlay, database, server.base)
            assert await revoked.wait_closed() == (4401, "credential revoked")
            await kept.subscribe("after", "{ spotifyDevices { id } }")
            assert (await kept.answer("after"))["type"] == "next"
            assert not kept.closed


@pytest.mark.postgres_only
@pytest.mark.parametrize("subscribed", [False, True], ids=["idle", "subscribed"])
@pytest.mark.parametrize("how", ["key revoked", "signed out"])
@pytest.mark.parametrize("checks", ["background", "per operation"])
async def test_withdrawing_through_another_process_closes_the_socket(
    database_url: str,
    bus_url: str,
    database: Database,
    sim: Sim,
    recorder: Recorder,
    tmp_path: Path,
    how: str,
    subscribed: bool,
    checks: str,
) -> None:
    """The socket is served by one ``serve`` process, the credential withdrawn through
    another's API: closed by the first's background checks, or, when they are too slow
    to come first, refused at its next operation."""
    keys = await streamer(database, sim)
    interval = {"TUNEDECK_LIVE_REVOCATION_SECONDS": str(NEVER)} if checks != "background" else {}
    async with (
        serve_process(database_url, bus_url, sim, tmp_path / "a", env=interval) as (one, _),
        serve_process(database_url, bus_url, sim, tmp_path / "b") as (two, _),
    ):
        cred = await credential(how, keys, one)
        async with opened(cred, one, subscribed=subscribed) as socket:
            recorder.clear()
            if how == "key revoked":
                async with httpx.AsyncClient(base_url=two, headers=keys.headers) as http:
                    answer = await http.delete(f"/v1/keys/{keys.key_id}")
                    assert answer.status_code == 204, answer.text
            else:
                await withdraw(cred, database, two)
            if checks == "per operation":
                await socket.subscribe("after", PAUSE)
                assert_refused(await socket.answer("after"))
            assert await socket.wait_closed() == (4401, "credential revoked")
    assert commands_sent(recorder) == []
    assert await events_recorded(database, keys.account_id) == 0


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def every_log_record() -> Iterator[Records]:
    """Every record logged meanwhile, whatever an earlier logging configuration did."""
    records = Records()
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(log, log.disabled) for log in loggers]
    for log in loggers:
        log.disabled = False
    root.addHandler(records)
    try:
        yield records
    finally:
        root.removeHandler(records)
        for log, disabled in saved:
            log.disabled = disabled


async def test_a_socket_closing_is_no_error_in_the_log(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """The client leaving (with a subscription open, after completing it, right after a
    query) and the server closing it (a credential revoked): nothing logged as an error."""
    keys = await streamer(database, sim)
    key = Credential("key revoked", keys, token=keys.key)
    with every_log_record() as records:
        async with served(settings, log_config=None) as server:
            async with opened(key, server.base, subscribed=True):
                pass  # the client closes with a subscription open
            async with opened(key, server.base, subscribed=True) as socket:
                await socket.send({"id": "live", "type": "complete"})
            async with opened(key, server.base, subscribed=False) as socket:
                await socket.subscribe("query", "{ spotifyDevices { id } }")
                await socket.answer("query")
            async with opened(key, server.base, subscribed=False) as socket:
                await socket.subscribe("query", "{ spotifyDevices { id } }")
                # Closed before the answer: it has nobody to go to.
            async with opened(key, server.base, subscribed=True) as socket:
                await withdraw(key, database, server.base)
                assert await socket.wait_closed() == (4401, "credential revoked")
    errors = [
        f"{r.name}: {r.getMessage()}"
        for r in records.records
        if r.levelno >= logging.ERROR or r.exc_info is not None
    ]
    assert errors == []


async def test_socket_origins_are_judged_as_the_live_feeds(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """A page of one of TuneDeck's own names opens a GraphQL socket whichever name it
    asked for (the live feed's rule, kit.hosts.origin_allowed); a page of another site is
    refused before the handshake completes, even when the Host check is left to a proxy."""
    keys = await streamer(database, sim)
    named = settings.model_copy(update={"allowed_hosts": "deck.example, *"})
    async with served(named) as server:
        port = int(server.base.rsplit(":", 1)[1])
        for origin in (f"http://localhost:{port}", "https://deck.example"):
            async with graphql_socket(server.base, headers={"Origin": origin}) as client:
                acknowledged = await client.init({"token": keys.key})
                assert acknowledged["type"] == "connection_ack"
        with pytest.raises(InvalidStatus) as refused:
            async with graphql_socket(
                server.base, headers={"Origin": f"http://evil.example:{port}"}
            ):
                pass
        assert refused.value.response.status_code == 403

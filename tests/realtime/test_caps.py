"""Caps on live connections (feed WebSocket, SSE, GraphQL WebSocket), per credential, per
account, per client address, and on sockets still waiting to authenticate; and the wait
for authentication, cut short. Served by a real uvicorn, on both backends; client
addresses other than loopback are named the way a proxy on this machine names them
(``X-Forwarded-For``, which uvicorn trusts from loopback only)."""

from __future__ import annotations

import json
import uuid
from contextlib import AsyncExitStack

import httpx
import pytest

from tests.ops.test_metrics import parse, value
from tests.realtime.feed_support import Feed, Served, feed, served
from tests.realtime.graphql_support import NOW_PLAYING, graphql_socket
from tests.realtime.support import eventually
from tests.realtime.test_feed import streamer
from tests.support.simulator import Sim
from tunedeck.accounts.permissions import PrincipalKind
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.kit.metrics import Metrics
from tunedeck.realtime.caps import Cap, CapLimits, ConnectionCaps, OverCap
from tunedeck.realtime.credentials import Credential

OVER = 4429
REFUSALS = "tunedeck_live_connection_refusals_total"


def address(n: int) -> dict[str, str]:
    """Headers a proxy on this machine sends for the client at 203.0.113.``n``."""
    return {"X-Forwarded-For": f"203.0.113.{n}"}


async def refusals(server: Served, kind: str, cap: str) -> float | None:
    async with httpx.AsyncClient(base_url=server.base) as http:
        answer = await http.get("/metrics")
        assert answer.status_code == 200, answer.text
    return value(parse(answer.text), REFUSALS, kind=kind, cap=cap)


def auth(token: str) -> str:
    return json.dumps({"type": "auth", "token": token})


# ---- the counting itself ----------------------------------------------------------------


def credential() -> Credential:
    return Credential(PrincipalKind.OVERLAY, uuid.uuid4())


def test_caps_count_open_connections_and_name_the_cap_refusing() -> None:
    metrics = Metrics()
    caps = ConnectionCaps(CapLimits(2, 3, 4, 1), metrics=metrics)
    account = uuid.uuid4()
    one, two = credential(), credential()
    held = [caps.authenticated(one, account, "a", "websocket") for _ in range(2)]
    with pytest.raises(OverCap) as over:
        caps.authenticated(one, account, "b", "sse")
    assert (over.value.cap, over.value.limit) == (Cap.CREDENTIAL, 2)
    assert "credential (2)" in over.value.reason
    held.append(caps.authenticated(two, account, "b", "graphql"))
    with pytest.raises(OverCap) as over:
        caps.authenticated(two, account, "c", "graphql")
    assert over.value.cap is Cap.ACCOUNT
    held[0].release()
    held[0].release()  # once only
    assert caps.open_count(Cap.CREDENTIAL, one) == 1
    held.append(caps.authenticated(two, account, "a", "websocket"))
    assert caps.open_count(Cap.ADDRESS, "a") == 2
    waiting = caps.unauthenticated("a", "websocket")
    with pytest.raises(OverCap) as over:
        caps.unauthenticated("a", "graphql")
    assert over.value.cap is Cap.UNAUTHENTICATED
    caps.unauthenticated("b", "graphql").release()  # another address has its own
    waiting.release()
    for slot in held:
        slot.release()
    assert caps._open == {}  # nothing remembered of closed connections
    assert metrics.live_refusals.labels("sse", "credential")._value.get() == 1
    assert metrics.live_refusals.labels("graphql", "account")._value.get() == 1
    assert metrics.live_refusals.labels("graphql", "unauthenticated")._value.get() == 1
    assert metrics.live_refusals.labels("websocket", "address")._value.get() == 0


def test_each_message_fits_a_close_frame() -> None:
    for cap in Cap:
        reason = OverCap(cap, 10_000).reason
        assert len(reason.encode()) <= 123, reason


# ---- every door ----------------------------------------------------------------------------


async def test_a_streamer_s_setup_fits_the_defaults(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """Ten OBS sources on one overlay token, the dashboard in three tabs (one session),
    three bots with their keys, a GraphiQL tab: all from one address, all served."""
    keys = await streamer(database, sim)
    async with served(settings) as server, AsyncExitStack() as stack:
        async with httpx.AsyncClient(base_url=server.base) as http:
            signed_in = await http.post("/v1/session", json={"key": keys.key})
            cookie = {"Cookie": f"tunedeck_session={signed_in.cookies['tunedeck_session']}"}
        clients: list[Feed] = []
        for _ in range(10):
            overlay = {"type": "auth", "token": keys.overlay}
            clients.append(await stack.enter_async_context(feed(server.ws, auth_message=overlay)))
        for _ in range(3):
            clients.append(await stack.enter_async_context(feed(server.ws, headers=cookie)))
        for _ in range(3):
            clients.append(await stack.enter_async_context(feed(server.ws, token=keys.key)))
        for client in clients:
            await client.wait_for("now_playing")
        graphiql = await stack.enter_async_context(graphql_socket(server.base, headers=cookie))
        await graphiql.init()
        await graphiql.subscribe("live", NOW_PLAYING)
        assert (await graphiql.answer("live"))["type"] == "next"
        assert not any(client.closed for client in clients)


async def test_one_credential_s_connections_are_capped_across_doors(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    capped = settings.model_copy(update={"live_max_per_credential": 3})
    sse_headers = {**keys.headers, "Accept": "text/event-stream"}
    async with served(capped) as server, AsyncExitStack() as stack:
        # A feed socket, an SSE stream and a GraphQL socket: the key's three.
        socket = await stack.enter_async_context(feed(server.ws, token=keys.key))
        await socket.wait_for("now_playing")
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=server.base))
        stream = await stack.enter_async_context(
            http.stream("GET", server.http, headers=sse_headers, timeout=60)
        )
        assert stream.status_code == 200
        graphql = await stack.enter_async_context(graphql_socket(server.base))
        await graphql.init({"token": keys.key})

        async with feed(server.ws, token=keys.key) as fourth:
            code, reason = await fourth.wait_closed()
        assert code == OVER
        assert reason == "too many live connections with this credential (3); close one"
        refused = await http.get(server.http, headers=sse_headers)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "5"
        assert refused.json()["error"]["code"] == "too_many_connections"
        assert "with this credential (3)" in refused.json()["error"]["message"]
        async with graphql_socket(server.base) as another:
            await another.send({"type": "connection_init", "payload": {"token": keys.key}})
            assert (await another.wait_closed())[0] == OVER
        # Another credential of the account is not affected.
        async with feed(server.ws, token=keys.overlay) as overlay:
            await overlay.wait_for("now_playing")
        assert await refusals(server, "websocket", "credential") == 1
        assert await refusals(server, "sse", "credential") == 1
        assert await refusals(server, "graphql", "credential") == 1

        # A connection closing frees its place, whichever door it came through.
        caps: ConnectionCaps = server.live.caps
        await socket.close()
        await stream.aclose()
        await graphql.close()

        async def all_free() -> bool:
            return bool(caps._open == {})

        await eventually(all_free, what="every place given back")
        for _ in range(3):
            async with feed(server.ws, token=keys.key) as again:
                await again.wait_for("now_playing")
            async with http.stream("GET", server.http, headers=sse_headers) as again_sse:
                assert again_sse.status_code == 200
            await eventually(all_free, what="the stream's place given back")


async def test_an_account_s_connections_are_capped(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    capped = settings.model_copy(update={"live_max_per_account": 2})
    async with (
        served(capped) as server,
        feed(server.ws, token=keys.key) as one,
        feed(server.ws, token=keys.overlay) as two,
    ):
        await one.wait_for("now_playing")
        await two.wait_for("now_playing")
        async with feed(server.ws, auth_message={"type": "auth", "token": keys.overlay}) as third:
            assert await third.wait_closed() == (
                OVER,
                "too many live connections for this account (2); close one",
            )
        other = await streamer(database, sim)  # another account has its own
        async with feed(server.ws, token=other.key) as elsewhere:
            await elsewhere.wait_for("now_playing")


async def test_an_address_s_connections_are_capped_behind_a_proxy(
    settings: Settings, database: Database, sim: Sim
) -> None:
    """The address counted is the client a trusted (local) proxy names, not the proxy."""
    keys = await streamer(database, sim)
    other = await streamer(database, sim)
    capped = settings.model_copy(update={"live_max_per_address": 2})
    async with (
        served(capped) as server,
        feed(server.ws, token=keys.key, headers=address(1)) as one,
        feed(server.ws, token=other.key, headers=address(1)) as two,
    ):
        await one.wait_for("now_playing")
        await two.wait_for("now_playing")
        async with feed(server.ws, token=keys.overlay, headers=address(1)) as third:
            assert await third.wait_closed() == (
                OVER,
                "too many live connections from this address (2); close one",
            )
        async with feed(server.ws, token=keys.overlay, headers=address(2)) as elsewhere:
            await elsewhere.wait_for("now_playing")
        assert await refusals(server, "websocket", "address") == 1


async def test_sockets_waiting_to_authenticate_are_capped_and_cut_short(
    settings: Settings, database: Database, sim: Sim
) -> None:
    keys = await streamer(database, sim)
    capped = settings.model_copy(
        update={"live_max_unauthenticated_per_address": 2, "live_auth_timeout_seconds": 30}
    )
    async with served(capped) as server:
        caps: ConnectionCaps = server.live.caps
        async with (
            feed(server.ws, headers=address(1)) as waiting,
            graphql_socket(server.base, headers=address(1)) as waiting_too,
        ):

            async def both_wait() -> bool:
                return caps.open_count(Cap.UNAUTHENTICATED, "203.0.113.1") == 2

            await eventually(both_wait, what="two sockets waiting to authenticate")
            async with feed(server.ws, headers=address(1)) as third:
                assert await third.wait_closed() == (
                    OVER,
                    "too many connections waiting to authenticate from this address (2); "
                    "authenticate first",
                )
            async with graphql_socket(server.base, headers=address(1)) as fourth:
                assert (await fourth.wait_closed())[0] == OVER
            # Another address is not affected; and once one authenticates, one may wait.
            async with feed(server.ws, headers=address(2)) as elsewhere:
                await elsewhere.ws.send(auth(keys.overlay))
                await elsewhere.wait_for("now_playing")
            await waiting_too.init({"token": keys.key})
            async with feed(server.ws, headers=address(1)) as now_one_may:
                await now_one_may.ws.send(auth(keys.overlay))
                await now_one_may.wait_for("now_playing")
            assert not waiting.closed
        assert await refusals(server, "websocket", "unauthenticated") == 1
        assert await refusals(server, "graphql", "unauthenticated") == 1


async def test_a_socket_that_does_not_authenticate_is_closed(
    settings: Settings, database: Database, sim: Sim
) -> None:
    quick = settings.model_copy(update={"live_auth_timeout_seconds": 0.3})
    async with served(quick) as server:
        async with feed(server.ws) as silent:
            assert await silent.wait_closed() == (4401, "no 'auth' message within 0.3 s")
        async with graphql_socket(server.base) as silent_graphql:
            assert await silent_graphql.wait_closed() == (
                4408,
                "Connection initialisation timeout",
            )
        # Their places are free again.
        assert server.live.caps._open == {}

"""A page on another site whose name is rebound to 127.0.0.1 reads nothing and drives
nothing: every request naming a Host TuneDeck is not served as gets 400 ``bad_host``
(kit.hosts), HTTP and WebSocket alike, the demo's simulator included."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from tests.ops.conftest import Captured
from tests.support.app import app_settings, asgi_client
from tests.support.servers import serve_in_thread
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.demo import SIM_PREFIX
from tunedeck.simulator.app import create_simulator_app

REBOUND = "evil.example:8000"  # the attacker's name, resolving to 127.0.0.1


def refused(response: httpx.Response) -> bool:
    body = response.json()
    return response.status_code == 400 and body["error"]["code"] == "bad_host"


async def test_a_rebound_name_reads_neither_metrics_nor_readiness(
    client: httpx.AsyncClient, logs: Captured
) -> None:
    """The loopback caller's privileges (metrics without a key, the checks' details) go
    with the names TuneDeck is served as, not with the connection."""
    metrics = await client.get("/metrics", headers={"Host": REBOUND})
    ready = await client.get("/readyz", headers={"Host": REBOUND})
    assert refused(metrics), metrics.text
    assert refused(ready), ready.text
    message = metrics.json()["error"]["message"]
    assert "'evil.example:8000'" in message
    assert "TUNEDECK_ALLOWED_HOSTS" in message
    assert "TUNEDECK_PUBLIC_URL" in message
    # Answered as every answer: its request id, its line in the log, not a route's.
    assert metrics.headers["x-request-id"]
    assert [(line["route"], line["status"]) for line in logs.access()] == [
        ("<unmatched>", 400),
        ("<unmatched>", 400),
    ]
    # The same requests under TuneDeck's own names.
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        assert (await client.get("/metrics", headers={"Host": host})).status_code == 200
        ready = await client.get("/readyz", headers={"Host": host})
        assert ready.json()["checks"]["database"]["detail"] == "reachable"


async def test_a_body_to_a_rebound_name_is_not_read(client: httpx.AsyncClient) -> None:
    too_large = b"x" * 10_000_000
    answer = await client.post("/v1/session", headers={"Host": REBOUND}, content=too_large)
    assert refused(answer)


async def test_the_public_url_and_the_allowed_hosts(database_url: str, tmp_path: Path) -> None:
    settings = app_settings(
        database_url,
        tmp_path,
        public_url="https://deck.example",
        allowed_hosts="tunedeck.lan, *.stream.example",
    )
    async with asgi_client(create_app(settings)) as client:
        for host in ("deck.example", "deck.example:443", "tunedeck.lan:8000", "a.stream.example"):
            answer = await client.get("/healthz", headers={"Host": host})
            assert answer.status_code == 200, (host, answer.text)
        for host in ("deck.example:8443", "stream.example", "tunedeck.lan.evil.example"):
            assert refused(await client.get("/healthz", headers={"Host": host})), host


async def test_the_demo_simulator_is_not_driven_from_a_rebound_name(
    database_url: str, tmp_path: Path
) -> None:
    settings = app_settings(database_url, tmp_path)
    app = create_app(settings, mounts={SIM_PREFIX: create_simulator_app()})
    async with asgi_client(app) as client:
        playback = f"{SIM_PREFIX}/_sim/users/demo/playback"
        assert refused(await client.get(playback, headers={"Host": REBOUND}))
        assert refused(
            await client.post(f"{SIM_PREFIX}/_sim/reset", headers={"Host": REBOUND}, json={})
        )
        assert (await client.get(playback)).status_code == 200


def test_a_real_server_on_a_free_port(settings: Settings) -> None:
    """Over real sockets: the loopback names on the port the server listens on (not the
    one configured), and a WebSocket handshake refused with the same answer."""
    with serve_in_thread(create_app(settings)) as base:
        port = int(base.rsplit(":", 1)[1])
        assert port != settings.port
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            assert httpx.get(f"{base}/healthz", headers={"Host": host}).status_code == 200
        for host in (f"evil.example:{port}", "127.0.0.1:1"):
            assert refused(httpx.get(f"{base}/metrics", headers={"Host": host}))
        answer = asyncio.run(_handshake(f"ws://evil.example:{port}/v1/spotify/live", port))
        assert answer.status_code == 400
        assert json.loads(answer.body or b"{}")["error"]["code"] == "bad_host"


async def _handshake(uri: str, port: int) -> Response:
    """The answer to a WebSocket handshake naming ``uri``'s host, sent to 127.0.0.1."""
    with pytest.raises(InvalidStatus) as refusal:
        async with connect(uri, host="127.0.0.1", port=port, open_timeout=10):
            pass
    return refusal.value.response

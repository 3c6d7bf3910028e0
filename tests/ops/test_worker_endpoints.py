"""A worker serves ``/metrics``, ``/healthz`` and ``/readyz`` on its own port when told to."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.ops.test_metrics import parse, value
from tests.player.test_hostile_input import local_port
from tests.support.app import app_settings
from tests.support.servers import free_port
from tunedeck.ops.app import worker_endpoints
from tunedeck.ops.readiness import Check, Readiness
from tunedeck.realtime.worker import Worker
from tunedeck.runtime import build_runtime


async def test_a_worker_with_a_metrics_port(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    settings = app_settings(database_url, tmp_path, worker_metrics_port=port)
    worker = Worker(settings, worker_endpoints)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.wait_for(worker.ready.wait(), 60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            ready = await client.get("/readyz")
            metrics = await client.get("/metrics")
            refused = await client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"})
            nothing_else = await client.get("/v1/me")
            # A page on a name rebound to 127.0.0.1 (kit.hosts): refused, unread.
            rebound = await client.get("/metrics", headers={"Host": f"evil.example:{port}"})
            by_localhost = await client.get("/healthz", headers={"Host": f"localhost:{port}"})
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
    assert health.json() == {"status": "ok"}
    assert (ready.status_code, ready.json()["status"]) == (200, "ok"), ready.text
    assert metrics.status_code == 200
    samples = parse(metrics.text)
    # The worker's own pieces: its poller (no live feeds here), its relay, its bus.
    assert value(samples, "tunedeck_poll_leases_held") == 0
    assert value(samples, "tunedeck_bus_connected") == 1
    assert not any(name == "tunedeck_live_connections" for name, _ in samples)
    assert (
        value(samples, "tunedeck_http_requests_total", route="/readyz", method="GET", status="200")
        == 1
    )
    assert refused.status_code == 401
    assert nothing_else.status_code == 404
    assert (rebound.status_code, rebound.json()["error"]["code"]) == (400, "bad_host")
    assert by_localhost.status_code == 200


async def test_a_failing_check_answers_the_standard_500_and_keeps_the_connection(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's operations app answers an unhandled error as the API does: the
    standard body, and the next request goes over the same keep-alive connection."""

    def broken(self: Readiness) -> Check:
        raise RuntimeError("secret-token-in-message")

    monkeypatch.setattr(Readiness, "_check_bus", broken)
    port = free_port()
    settings = app_settings(database_url, tmp_path, worker_metrics_port=port)
    async with (
        build_runtime(settings, serve=False, poll=False) as runtime,
        worker_endpoints(runtime),
    ):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            failed = await client.get("/readyz")
            ports = [local_port(failed)]
            health = await client.get("/healthz")
            ports.append(local_port(health))
    assert failed.status_code == 500
    assert failed.json() == {
        "error": {"code": "internal_error", "message": "Internal server error."}
    }
    assert "secret-token" not in failed.text
    assert health.json() == {"status": "ok"}
    assert ports[0] == ports[1]  # one connection, kept

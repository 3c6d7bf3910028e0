"""A worker serves ``/metrics``, ``/healthz`` and ``/readyz`` on its own port when told to."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.ops.test_metrics import parse, value
from tests.support.app import app_settings
from tests.support.servers import free_port
from tunedeck.ops.app import worker_endpoints
from tunedeck.realtime.worker import Worker


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

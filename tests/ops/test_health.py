"""``/healthz`` and ``/readyz``: each failing check says what is wrong, with the right status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete

from tests.events.support import new_account
from tests.ops.conftest import Captured, readiness_of
from tests.ops.test_metrics import Samples, scrape, value
from tests.realtime.support import eventually
from tests.support.app import app_settings, asgi_client, replaced
from tests.support.redis_server import OwnRedis
from tests.support.servers import free_port
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.events.bus import RedisBus
from tunedeck.events.models import OutboxEvent
from tunedeck.kit.db import Database, utcnow
from tunedeck.migrations.apply import head_revision, upgrade_database
from tunedeck.runtime import app_runtime


async def ready(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds (a state change, never a timing)."""

    async def check() -> bool:
        return condition()

    await eventually(check, what=what)


async def test_a_ready_process(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    status, body = await ready(client)
    assert (status, body["status"]) == (200, "ok"), body
    assert set(body["checks"]) == {"database", "migrations", "bus", "relay"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["database_revision"] == head_revision()


async def test_a_database_behind_the_code_is_not_ready(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """Migrations not applied: 503, naming both revisions and the command to run."""
    await upgrade_database(fresh_database_url, "0001")
    app = create_app(app_settings(fresh_database_url, tmp_path))
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        status, body = await ready(client)
        health = await client.get("/healthz")
    assert (status, body["status"]) == (503, "unavailable")
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["critical"] is True
    assert migrations["database_revision"] == "0001"
    assert migrations["code_revision"] == head_revision()
    assert "tunedeck migrate" in migrations["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert health.status_code == 200  # alive all the same


async def test_an_unreachable_database_is_not_ready(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    nowhere = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    try:
        with replaced(app, readiness=readiness_of(app_runtime(app), db=nowhere)):
            status, body = await ready(client)
    finally:
        await nowhere.dispose()
    assert (status, body["status"]) == (503, "unavailable")
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["detail"].startswith("unreachable: ")
    assert body["checks"]["migrations"]["detail"] == "not checked: the database is unreachable"
    assert "postgres@" not in str(body)  # no connection string in the answer


async def test_a_lagging_relay_is_degraded(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    """Two events an hour old wait in the outbox (the relay is stopped): degraded, 200;
    the backlog is counted only past the bound, ``/metrics`` has it exactly."""
    runtime = app_runtime(app)
    bounded = runtime.settings.model_copy(update={"ready_max_outbox_backlog": 1})
    await runtime.relay.stop()
    account = await new_account(database)
    occurred = utcnow() - timedelta(hours=1)
    async with database.session() as session:
        for _ in range(2):
            event_id = uuid.uuid4()
            session.add(
                OutboxEvent(
                    event_id=event_id,
                    account_id=account.id,
                    occurred_at=occurred,
                    payload={"id": str(event_id)},
                )
            )
    try:
        with replaced(app, readiness=readiness_of(runtime, settings=bounded)):
            status, body = await ready(client)
            samples = await scrape(client)
    finally:
        async with database.session() as session:
            await session.execute(delete(OutboxEvent).where(OutboxEvent.account_id == account.id))
    assert (status, body["status"]) == (200, "degraded")
    relay = body["checks"]["relay"]
    assert relay["ok"] is False
    assert relay["critical"] is False
    assert relay["backlog"] == "more than 1"
    assert relay["lag_seconds"] >= 3600
    assert "the event relay is not running" in relay["detail"]
    assert "more than 1 events wait in the outbox" in relay["detail"]
    assert "the oldest waiting event is" in relay["detail"]
    assert (value(samples, "tunedeck_event_outbox_backlog") or 0) >= 2
    assert (value(samples, "tunedeck_event_relay_lag_seconds") or 0) >= 3600


async def test_redis_down_is_degraded_then_ok_again(
    database_url: str, tmp_path: Path, own_redis: OwnRedis, logs: Captured
) -> None:
    """Also logged: the loss once (no line per reconnect attempt), and the return."""
    settings: Settings = app_settings(
        database_url, tmp_path, redis_url=own_redis.url, ready_cache_seconds=0
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        bus = app_runtime(app).bus
        assert isinstance(bus, RedisBus)
        await until(lambda: bus.ready, "the bus connects")
        status, body = await ready(client)
        assert (status, body["status"]) == (200, "ok"), body

        own_redis.stop()
        await until(lambda: not bus.ready, "the bus notices")
        status, body = await ready(client)
        assert_degraded_by_redis(status, body, await scrape(client))

        await until(lambda: bus.reconnects >= 3, "a few reconnect attempts")
        own_redis.start()
        await until(lambda: bus.ready, "the bus reconnects")
        status, body = await ready(client)
        samples = await scrape(client)
        assert (status, body["status"]) == (200, "ok"), body
        assert value(samples, "tunedeck_bus_connected") == 1
        assert (value(samples, "tunedeck_bus_reconnects_total") or 0) >= 3
    bus_lines = [line for line in logs.lines() if line["logger"] == "tunedeck.events.bus"]
    lost = [line for line in bus_lines if "subscription lost" in line["message"]]
    back = [line for line in bus_lines if "live again" in line["message"]]
    assert [(line["level"], line["event"]) for line in lost] == [("warning", "bus_lost")]
    assert [(line["level"], line["event"]) for line in back] == [("info", "bus_reconnected")]


def assert_degraded_by_redis(status: int, body: dict[str, Any], samples: Samples) -> None:
    """Redis down: degraded, not unavailable; the bus check says why, the database is fine."""
    assert (status, body["status"]) == (200, "degraded"), body
    check = body["checks"]["bus"]
    assert check["ok"] is False
    assert check["critical"] is False
    assert "Redis is unreachable" in check["detail"]
    assert value(samples, "tunedeck_bus_connected") == 0
    assert body["checks"]["database"]["ok"] is True

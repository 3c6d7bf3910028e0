"""``/readyz`` stays cheap and says little to strangers: a burst of probes is one
database pass (the report is kept ``ready_cache_seconds`` and made one at a time), the
outbox is counted only up to its bound, and what the checks say (error text, revisions,
counts) is for a caller on this machine or an ``admin`` key only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.accounts.conftest import MakeCaller
from tests.ops.conftest import readiness_of
from tests.ops.test_health import until
from tests.support.app import OUTSIDE_CLIENT, asgi_client, replaced
from tests.support.servers import free_port
from tunedeck.kit.db import Database
from tunedeck.ops.readiness import Report
from tunedeck.runtime import app_runtime

CHECKS = {"database", "migrations", "bus", "relay"}


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` sends during the block."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(str(args[2]))  # (conn, cursor, statement, parameters, context, many)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_a_burst_of_probes_is_one_database_pass(
    app: FastAPI, client: httpx.AsyncClient, database_url: str
) -> None:
    """Probes within ``ready_cache_seconds`` send no SQL; the next one after it sends one
    pass again, whose outbox count reads at most ``ready_max_outbox_backlog + 1`` rows.
    (The probe gets a database of its own: the app's background loops use the app's.)"""
    clock = Clock()
    own_db = Database(database_url)
    runtime = app_runtime(app)
    readiness = readiness_of(runtime, db=own_db, clock=clock)
    try:
        with replaced(app, readiness=readiness):
            warm = await client.get("/readyz")  # the engine's first connection asks its own
            clock.now += runtime.settings.ready_cache_seconds
            with statements(own_db) as sent:
                first = await client.get("/readyz")
                one_pass = list(sent)
                burst = await asyncio.gather(*(client.get("/readyz") for _ in range(10)))
                after_burst = len(sent)
                clock.now += runtime.settings.ready_cache_seconds
                again = await client.get("/readyz")
    finally:
        await own_db.dispose()
    assert warm.status_code == 200, warm.text
    assert (first.status_code, first.json()["status"]) == (200, "ok"), first.text
    assert one_pass
    assert after_burst == len(one_pass)
    assert [response.json() for response in burst] == [first.json()] * 10
    assert again.status_code == 200
    assert len(sent) == 2 * len(one_pass)
    assert readiness.passes == 3
    counts = [sql for sql in one_pass if "count(" in sql.lower()]
    assert counts, one_pass
    assert all("event_outbox" in sql and "LIMIT" in sql for sql in counts), counts


async def test_concurrent_probes_wait_for_the_same_pass(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty callers arrive while the first pass is held open: all get its report."""
    readiness = readiness_of(app_runtime(app), clock=Clock())
    callers = 20
    arrived = 0
    check_all = readiness._check_all

    async def held_open() -> Report:
        await until(lambda: arrived == callers, "every caller is waiting")
        return await check_all()

    monkeypatch.setattr(readiness, "_check_all", held_open)

    async def probe() -> Report:
        nonlocal arrived
        arrived += 1  # then, in the same step, into report() up to its wait
        return await readiness.report()

    reports = await asyncio.gather(*(probe() for _ in range(callers)))
    assert readiness.passes == 1
    assert all(report is reports[0] for report in reports)
    assert reports[0].status == "ok"


async def test_a_failed_pass_is_not_kept(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    readiness = readiness_of(app_runtime(app), clock=Clock())
    check_all = readiness._check_all
    failures = iter([RuntimeError("first pass fails")])

    async def fails_once() -> Report:
        for failure in failures:
            raise failure
        return await check_all()

    monkeypatch.setattr(readiness, "_check_all", fails_once)
    with pytest.raises(RuntimeError, match="first pass fails"):
        await readiness.report()
    assert (await readiness.report()).status == "ok"
    assert readiness.passes == 2


def outcomes_only(body: dict[str, Any]) -> bool:
    return set(body) == {"status", "checks"} and all(
        set(check) == {"ok", "critical"} for check in body["checks"].values()
    )


async def test_only_the_operator_reads_what_the_checks_say(
    app: FastAPI, client: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    """Strangers, other keys, bad keys and proxied callers get 200 and the outcomes;
    this machine and ``admin`` keys also get the details."""
    admin = await make_caller("admin")
    reader = await make_caller("spotify:read")
    async with asgi_client(app, client=OUTSIDE_CLIENT) as outside:
        anonymous = await outside.get("/readyz")
        with_admin = await outside.get("/readyz", headers=admin.headers)
        with_reader = await outside.get("/readyz", headers=reader.headers)
        bad_key = await outside.get("/readyz", headers={"Authorization": "Bearer tdk_no_such_key"})
    proxied = await client.get("/readyz", headers={"X-Forwarded-For": "198.51.100.1"})
    local = await client.get("/readyz")
    for plain in (anonymous, with_reader, bad_key, proxied):
        assert plain.status_code == 200, plain.text
        assert outcomes_only(plain.json()), plain.json()
        assert plain.json() == {
            "status": "ok",
            "checks": {
                "database": {"ok": True, "critical": True},
                "migrations": {"ok": True, "critical": True},
                "bus": {"ok": True, "critical": False},
                "relay": {"ok": True, "critical": False},
            },
        }
    for detailed in (with_admin, local):
        assert detailed.status_code == 200
        checks = detailed.json()["checks"]
        assert set(checks) == CHECKS
        assert checks["database"]["detail"] == "reachable"
        assert "database_revision" in checks["migrations"]
        assert checks["relay"]["backlog"] == 0


async def test_a_stranger_is_not_told_why_the_database_is_unreachable(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    nowhere = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    try:
        with replaced(app, readiness=readiness_of(app_runtime(app), db=nowhere)):
            async with asgi_client(app, client=OUTSIDE_CLIENT) as outside:
                anonymous = await outside.get("/readyz")
            local = await client.get("/readyz")
    finally:
        await nowhere.dispose()
    assert (anonymous.status_code, local.status_code) == (503, 503)
    assert outcomes_only(anonymous.json()), anonymous.json()
    assert anonymous.json()["checks"]["database"] == {"ok": False, "critical": True}
    assert local.json()["checks"]["database"]["detail"].startswith("unreachable: ")
    assert "127.0.0.1" not in anonymous.text

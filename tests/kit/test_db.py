"""The relational store on both backends: migrations, engine settings, the request session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import aiosqlite
import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tests.kit.storage import unique
from tunedeck.accounts.models import Account, ApiKey
from tunedeck.connections.models import OAuthState
from tunedeck.kit.db import Base, Database, SessionDep
from tunedeck.kit.deps import attached
from tunedeck.kit.errors import Conflict, install_error_handlers
from tunedeck.migrations import import_models, include_object_on
from tunedeck.migrations.apply import current_revision, head_revision, upgrade_database

TABLES = {
    "accounts",
    "api_keys",
    "overlay_tokens",
    "dashboard_sessions",
    "app_credentials",
    "channel_connections",
    "oauth_states",
}


def _schema_diff(connection: Connection) -> list[object]:
    import_models()
    opts = {"compare_type": True, "include_object": include_object_on(connection.dialect.name)}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_from_empty(fresh_database_url: str) -> None:
    assert await current_revision(fresh_database_url) is None
    await upgrade_database(fresh_database_url)
    assert await current_revision(fresh_database_url) == head_revision() is not None
    await upgrade_database(fresh_database_url)  # idempotent at head
    db = Database(fresh_database_url)
    try:
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert tables >= TABLES | {"alembic_version"}
            # The migration creates exactly what the models describe.
            assert await conn.run_sync(_schema_diff) == []
    finally:
        await db.dispose()


@pytest.mark.postgres_only
async def test_processes_starting_together_migrate_one_after_the_other(
    fresh_database_url: str,
) -> None:
    """Several ``serve`` and ``worker`` processes started at once on an empty database
    (compose, a deployment) each migrate at start: none fails on the others' tables."""
    await asyncio.gather(*(upgrade_database(fresh_database_url) for _ in range(4)))
    assert await current_revision(fresh_database_url) == head_revision()


async def test_engine_settings(database: Database) -> None:
    if database.backend != "sqlite":
        assert database.engine.pool.size() == 10  # type: ignore[attr-defined]
        return
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000


@pytest.mark.postgres_only
async def test_pooled_connection_checked_in_one_round_trip(fresh_database_url: str) -> None:
    """Handing out a pooled PostgreSQL connection costs one statement to the server (a
    SELECT 1), not pre-ping's three (BEGIN, a query, ROLLBACK): every request pays it."""
    db = Database(fresh_database_url)
    sent: list[str] = []
    try:
        async with db.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            driver.add_query_logger(lambda record: sent.append(record.query))
        async with db.engine.connect():  # the same pooled connection, handed out again
            pass
        for _ in range(3):
            await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
        checked = list(sent)
    finally:
        await db.dispose()
    assert checked == ["SELECT 1"]


@pytest.mark.postgres_only
async def test_pooled_connection_the_server_closed_is_replaced(fresh_database_url: str) -> None:
    """A pooled connection the server ended meanwhile (a restart, an administrator) is
    found dead before use and replaced: the unit of work runs, on a new connection."""
    db, admin = Database(fresh_database_url), Database(fresh_database_url)
    try:
        async with db.session() as session:
            first = await session.scalar(text("SELECT pg_backend_pid()"))
        async with admin.session() as session:  # the pooled one is idle: end it
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        async with db.session() as session:
            second = await session.scalar(text("SELECT pg_backend_pid()"))
    finally:
        await db.dispose()
        await admin.dispose()
    assert second is not None
    assert second != first


@pytest.mark.sqlite_only
async def test_sqlite_unit_of_work_ends_without_a_second_rollback(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A committed unit of work hands its SQLite connection back as it is: no rollback of
    nothing on the way (each one is a trip to aiosqlite's thread)."""
    rollbacks: list[object] = []
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append(self)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    async with database.session() as session:
        session.add(Account(name=unique()))
    async with database.session() as session:
        await session.scalar(select(Account.id).limit(1))
    assert rollbacks == []


@pytest.mark.sqlite_only
async def test_sqlite_unit_of_work_that_only_read_sends_no_commit(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit of work that only read has no transaction open in sqlite3: its end asks
    aiosqlite's thread for nothing (no COMMIT, no ROLLBACK); one that wrote commits."""
    ends: list[str] = []

    def counting(name: str) -> Callable[[aiosqlite.Connection], Awaitable[None]]:
        original = getattr(aiosqlite.Connection, name)

        async def counted(self: aiosqlite.Connection) -> None:
            ends.append(name)
            await original(self)

        return counted

    for name in ("commit", "rollback"):
        monkeypatch.setattr(aiosqlite.Connection, name, counting(name))

    async def read(*, then_fail: bool) -> None:
        async with database.session() as session:
            await session.scalar(select(Account.id).limit(1))
            if then_fail:
                raise LookupError

    await read(then_fail=False)
    with pytest.raises(LookupError):
        await read(then_fail=True)
    assert ends == []
    written = unique()
    async with database.session() as session:
        session.add(Account(name=written))
    assert ends == ["commit"]
    async with database.session() as session:
        assert await session.scalar(select(Account.id).where(Account.name == written))


@pytest.mark.sqlite_only
async def test_sqlite_connection_returned_in_a_transaction_is_rolled_back(
    database: Database,
) -> None:
    """A connection given back with its transaction still open (written to below
    SQLAlchemy) is rolled back before anyone else gets it: nothing kept, no lock held."""
    name = unique()
    async with database.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute(
            "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, datetime('now'))",
            (uuid.uuid4().hex, name),
        )
        assert driver.in_transaction
    async with database.session() as session:  # writes: the lock is free
        session.add(Account(name=unique()))
        found = await session.scalar(select(Account).where(Account.name == name))
    assert found is None


async def test_datetimes_come_back_aware_utc(database: Database) -> None:
    account = Account(name=unique())
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    async with database.session() as session:
        session.add(account)
        await session.flush()
        session.add(
            OAuthState(
                state=unique("state"),
                account_id=account.id,
                code_verifier="v1:x:y",
                redirect_uri="http://127.0.0.1/cb",
                expires_at=when,
            )
        )
    async with database.session() as session:
        row = await session.scalar(select(OAuthState).where(OAuthState.account_id == account.id))
        assert row is not None
        assert row.expires_at == when
        assert row.expires_at.tzinfo is UTC
        assert row.created_at.tzinfo is UTC


async def test_naive_datetime_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with database.session() as session:
            session.add(Account(name=unique(), created_at=datetime(2030, 1, 1)))


async def test_foreign_keys_enforced_and_cascade(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            session.add(
                ApiKey(
                    account_id=uuid.uuid4(),
                    label="orphan",
                    key_hash=uuid.uuid4().hex,
                    prefix="tdk_x",
                    permissions=[],
                )
            )
    account = Account(name=unique())
    async with database.session() as session:
        session.add(account)
        await session.flush()
        session.add(
            ApiKey(
                account_id=account.id,
                label="k",
                key_hash=uuid.uuid4().hex,
                prefix="tdk_x",
                permissions=["admin"],
            )
        )
    async with database.session() as session:
        await session.delete(await session.get(Account, account.id))
    async with database.session() as session:
        left = await session.scalars(select(ApiKey).where(ApiKey.account_id == account.id))
        assert left.all() == []


@dataclass(frozen=True)
class Pieces:
    """The one piece of a runtime the request session reads."""

    db: Database


def _session_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/accounts/{name}")
    async def create(name: str, session: SessionDep, fail: bool = False) -> dict[str, str]:
        session.add(Account(name=name))
        if fail:
            await session.flush()
        if fail:
            raise Conflict("refused after writing")
        return {"name": name}

    return app


async def test_request_session_commits_or_rolls_back(database: Database) -> None:
    app = _session_app()
    transport = httpx.ASGITransport(app=app)
    with attached(app, Pieces(database)):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            kept, dropped = unique(), unique()
            assert (await client.post(f"/accounts/{kept}")).status_code == 200
            response = await client.post(f"/accounts/{dropped}", params={"fail": "true"})
            assert response.status_code == 409
            assert response.json()["error"]["code"] == "conflict"
            # The duplicate is only found by the commit: it must happen before the response goes.
            late = await client.post(f"/accounts/{kept}")
            assert late.status_code == 409, late.text
            assert late.json()["error"]["message"] == "The change conflicts with existing data."
    async with database.session() as session:
        names = set(await session.scalars(select(Account.name)))
    assert kept in names
    assert dropped not in names

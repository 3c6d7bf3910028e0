"""Apply the Alembic migrations programmatically (``tunedeck migrate``, demo and serve start).

Beside the revisions it applies and the ``env.py`` it hands its connection to
(``cfg.attributes["connection"]``): kit, below, knows nothing of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from tunedeck.config import to_async_url
from tunedeck.kit.files import private_sqlite_file

MIGRATIONS_DIR = Path(__file__).parent
VERSION_TABLE = "alembic_version"

MIGRATION_LOCK = 0x7464_6D69_6772_6174  # "tdmigrat" in ASCII (the relay's lock is another)
"""PostgreSQL advisory lock held while migrating: processes started together (several
``serve`` and ``worker``) migrate one after the other, the later ones finding nothing to do."""


def alembic_config(url: str | None = None) -> Config:
    """Alembic's config built in code: works from a checkout and from an installed wheel."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", to_async_url(url).replace("%", "%%"))
    return cfg


def _sqlite_for_migrations(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Batch mode recreates tables: with foreign keys on, that would cascade deletes.
    # Autocommit at the driver + our own BEGIN makes DDL transactional on SQLite too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def migration_engine(url: str) -> AsyncEngine:
    async_url = to_async_url(url)
    parsed = make_url(async_url)
    engine = create_async_engine(async_url, poolclass=NullPool, hide_parameters=True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_sqlite_file(Path(parsed.database))
        event.listen(engine.sync_engine, "connect", _sqlite_for_migrations)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _upgrade(connection: Connection, cfg: Config, revision: str) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
    if connection.dialect.name == "sqlite":
        broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            raise RuntimeError(f"migration left rows violating foreign keys: {broken[:5]}")


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` (plain or driver URL) to ``revision``, in one transaction."""
    engine = migration_engine(url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Released with the transaction, so a crashed migration frees it too.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade, alembic_config(), revision)
    finally:
        await engine.dispose()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(url: str) -> str | None:
    engine = migration_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def _version_rows(connection: Connection) -> list[str]:
    if not inspect(connection).has_table(VERSION_TABLE):
        return []
    return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


async def revision_of(engine: AsyncEngine) -> str | None:
    """The revision the database behind ``engine`` (a running app's) is at, read without
    Alembic's migration context (which logs each time it is made: a readiness probe
    asks every few seconds)."""
    async with engine.connect() as connection:
        rows = await connection.run_sync(_version_rows)
    return ",".join(sorted(rows)) or None


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()

"""The relational store: engine and sessions, the declarative base, the request's session.

One ``Database`` per process (owned by the app's lifespan or a CLI command). A
request gets one session from :func:`get_session`; it commits once, after the
route returned and before the response is sent, and rolls back on any error.
Services and repositories never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, PoolResetState
from sqlalchemy.types import TypeDecorator, Uuid
from starlette.requests import HTTPConnection

from tunedeck.config import to_async_url
from tunedeck.kit.crypto import EncryptionContext
from tunedeck.kit.deps import kit_runtime
from tunedeck.kit.files import private_sqlite_file

SQLITE_BUSY_TIMEOUT_MS = 5000

# Stable constraint names, so migrations can drop/alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table. Reprs show the class and id, never a column value."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={getattr(self, 'id', None)!r})"


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


ENCRYPTED = "encrypted"


def encrypted_info() -> dict[str, Any]:
    """``info`` for a column holding a keyring ciphertext; key rotation finds columns by it.

    The table must have an ``account_id`` column: it is part of the associated data.
    """
    return {ENCRYPTED: True}


def encryption_context(
    attribute: InstrumentedAttribute[Any], account_id: uuid.UUID
) -> EncryptionContext:
    """The context of an encrypted model attribute for one account, e.g.
    ``encryption_context(AppCredential.client_secret, account.id)``."""
    column = attribute.property.columns[0]
    if not column.info.get(ENCRYPTED):
        raise ValueError(f"{column.table.name}.{column.name} is not an encrypted column")
    return EncryptionContext(table=column.table.name, column=column.name, account_id=account_id)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _reset_sqlite(
    dbapi_connection: Any, _record: ConnectionPoolEntry, reset_state: PoolResetState
) -> None:
    """A SQLite connection back in the pool: rolled back if a transaction is still open,
    as the pool's rollback-on-return does (which is off for SQLite), but only then. A unit
    of work has always ended its transaction (committed, or rolled back by SQLAlchemy,
    which then skips this): the pool's own rollback would be one more trip to aiosqlite's
    thread for nothing, twice per state read (its authentication and its token)."""
    if reset_state.terminate_only or not reset_state.asyncio_safe:
        return  # as the pool's own reset: nothing to roll back, or not from here
    if not reset_state.transaction_was_reset and dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def _end_open_transactions_only(dialect: Dialect) -> None:
    """SQLite: ``dialect`` commits and rolls back only when sqlite3 has a transaction
    open. A unit of work that only read has none (sqlite3 begins one before a write, not
    before a read), and sqlite3 then does nothing on COMMIT; asking it is still a trip to
    aiosqlite's thread and back, twice per state read (its authentication and its token)."""
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            commit(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            rollback(dbapi_connection)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether sqlite3 has a transaction open on the connection; True when it cannot
    tell (aiosqlite's connection is closed): the adapter's own commit or rollback decides."""
    try:
        return bool(dbapi_connection.driver_connection.in_transaction)
    except ValueError:
        return True


def _ping_asyncpg(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Before the pool hands an asyncpg connection out: is it still alive? As
    ``pool_pre_ping`` would, but in one round trip instead of three (its BEGIN, query,
    ROLLBACK, on every request's authentication and every action's event): SELECT 1
    in the simple protocol (no prepared statement, so fine behind pgbouncer too).

    A closed connection (the server restarted) invalidates the pool, as pre-ping's failure
    does, and the pool connects anew; any other failure replaces this connection only."""
    try:
        dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
    except Exception as exc:
        if dbapi_connection.driver_connection.is_closed():
            raise InvalidatePoolError(f"pooled connection closed: {exc!r}") from exc
        raise DisconnectionError(f"pooled connection failed a ping: {exc!r}") from exc


class Database:
    """An async engine and session factory for one database URL (plain or with driver)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = to_async_url(url)
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        # asyncpg's pooled connections are checked by _ping_asyncpg, others by pre-ping.
        ping_asyncpg = parsed.get_driver_name() == "asyncpg"
        if self.backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                private_sqlite_file(Path(parsed.database))
            kwargs.update(pool_reset_on_return=None)  # _reset_sqlite does it
        else:
            kwargs.update(
                pool_size=10, max_overflow=10, pool_pre_ping=not ping_asyncpg, pool_recycle=1800
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "reset", _reset_sqlite)
            _end_open_transactions_only(self.engine.sync_engine.dialect)
        if ping_asyncpg:
            event.listen(self.engine.sync_engine, "checkout", _ping_asyncpg)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work outside a request (CLI, background jobs): commit or roll back."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def get_database(conn: HTTPConnection) -> Database:
    return kit_runtime(conn).db


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """The request's session: committed once when the route succeeded, else rolled back."""
    async with get_database(conn).session() as session:
        yield session


# Always depend on the session through this alias: the scope makes the commit happen
# before the response is sent, and one alias means one cached session per request.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

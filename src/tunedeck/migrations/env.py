"""Alembic environment: async engines, batch mode on SQLite, every model imported."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tunedeck.kit.db import Base
from tunedeck.migrations import import_models, include_object_on

import_models()
config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object_on(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    from tunedeck.config import get_settings
    from tunedeck.migrations.apply import migration_engine

    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    engine = migration_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
            await connection.commit()
    finally:
        await engine.dispose()


# upgrade_database() hands over its connection; the `alembic` command line makes one.
shared = config.attributes.get("connection")
if shared is not None:
    run_with(shared)
elif context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
else:
    asyncio.run(run_online())

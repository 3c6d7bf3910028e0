"""The TimescaleDB path: ``platform_events`` as a hypertable when the extension can be created.

Kept apart and small: it only runs in the migration, and only when
``CREATE EXTENSION timescaledb`` succeeds; otherwise the table is partitioned by month
(see ``partitions``).
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

CHUNK_INTERVAL = "7 days"


def enable_extension(conn: Connection) -> bool:
    """Try ``CREATE EXTENSION timescaledb`` in a savepoint; ``False`` if it is not available."""
    if conn.dialect.name != "postgresql":
        return False
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError as exc:
        logger.info("TimescaleDB not available, partitioning platform_events by month: %s", exc)
        return False
    return True


def create_hypertable(
    conn: Connection, table: str = "platform_events", time_column: str = "occurred_at"
) -> None:
    """Turn the (plain, empty) table into a hypertable chunked on ``time_column``."""
    conn.execute(
        text(
            "SELECT create_hypertable(CAST(:table AS regclass), CAST(:column AS name), "
            "chunk_time_interval => CAST(:chunk AS interval))"
        ),
        {"table": table, "column": time_column, "chunk": CHUNK_INTERVAL},
    )


def is_hypertable(conn: Connection, table: str) -> bool:
    """Whether ``table`` is a TimescaleDB hypertable here."""
    if conn.dialect.name != "postgresql":
        return False
    if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).first():
        found = conn.execute(
            text("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = :t"),
            {"t": table},
        ).first()
        return found is not None
    return False

"""Monthly partitions of ``platform_events`` on plain PostgreSQL.

The partitions live in their own schema (``event_partitions``) so that the public
schema holds exactly the tables the models describe. A default partition catches
anything outside the prepared months, so an insert never fails for want of one;
maintenance keeps this month and the next ones created ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from tunedeck.kit.db import Database, utcnow

PARTITION_SCHEMA = "event_partitions"
PARENT = "platform_events"
MONTHS_AHEAD = 2  # this month and the next one


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def partition_name(start: datetime) -> str:
    return f"{PARENT}_{start.year:04d}_{start.month:02d}"


def month_ranges(now: datetime, months: int = MONTHS_AHEAD) -> list[tuple[datetime, datetime]]:
    """``months`` consecutive [start, end) month ranges starting with the month of ``now``."""
    ranges = []
    start = month_start(now)
    for _ in range(months):
        end = next_month(start)
        ranges.append((start, end))
        start = end
    return ranges


def is_partitioned(conn: Connection) -> bool:
    """Whether ``platform_events`` here is a partitioned table (not a hypertable, not SQLite)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:name)"),
        {"name": PARENT},
    ).first()
    return found is not None


def ensure_partitions_sync(
    conn: Connection, now: datetime | None = None, months: int = MONTHS_AHEAD
) -> list[str]:
    """Create the schema, the default partition and the monthly partitions that are missing.

    Returns the names of the partitions created. Does nothing unless the table is partitioned.
    """
    if not is_partitioned(conn):
        return []
    existing = {
        row[0]
        for row in conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:parent AS regclass)"
            ),
            {"parent": PARENT},
        )
    }
    created = []
    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{PARTITION_SCHEMA}"'))
    default = f"{PARENT}_default"
    if default not in existing:
        conn.execute(
            text(f'CREATE TABLE "{PARTITION_SCHEMA}"."{default}" PARTITION OF "{PARENT}" DEFAULT')
        )
        created.append(default)
    for start, end in month_ranges(now or utcnow(), months):
        name = partition_name(start)
        if name in existing:
            continue
        # Bounds are literals from our own datetimes: DDL takes no bind parameters.
        conn.execute(
            text(
                f'CREATE TABLE "{PARTITION_SCHEMA}"."{name}" PARTITION OF "{PARENT}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )
        created.append(name)
    return created


async def ensure_partitions(
    db: Database, now: datetime | None = None, months: int = MONTHS_AHEAD
) -> list[str]:
    """Maintenance entry point (the relay calls it on start and then periodically)."""
    if db.backend != "postgresql":
        return []
    async with db.engine.begin() as conn:
        return await conn.run_sync(ensure_partitions_sync, now, months)

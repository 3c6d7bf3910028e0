"""Monthly partitions of ``platform_events`` (and of ``plays``) on plain PostgreSQL.

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


def partition_name(start: datetime, parent: str = PARENT) -> str:
    return f"{parent}_{start.year:04d}_{start.month:02d}"


def month_ranges(now: datetime, months: int = MONTHS_AHEAD) -> list[tuple[datetime, datetime]]:
    """``months`` consecutive [start, end) month ranges starting with the month of ``now``."""
    ranges = []
    start = month_start(now)
    for _ in range(months):
        end = next_month(start)
        ranges.append((start, end))
        start = end
    return ranges


def is_partitioned(conn: Connection, parent: str = PARENT) -> bool:
    """Whether ``parent`` here is a partitioned table (not a hypertable, not SQLite)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:name)"),
        {"name": parent},
    ).first()
    return found is not None


def ensure_partitions_sync(
    conn: Connection,
    now: datetime | None = None,
    months: int = MONTHS_AHEAD,
    parent: str = PARENT,
) -> list[str]:
    """Create the schema, the default partition and the monthly partitions of ``parent``
    that are missing.

    Returns the names of the partitions created. Does nothing unless the table is partitioned.
    """
    if not is_partitioned(conn, parent):
        return []
    existing = {
        row[0]
        for row in conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = CAST(:parent AS regclass)"
            ),
            {"parent": parent},
        )
    }
    created = []
    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{PARTITION_SCHEMA}"'))
    default = f"{parent}_default"
    if default not in existing:
        conn.execute(
            text(f'CREATE TABLE "{PARTITION_SCHEMA}"."{default}" PARTITION OF "{parent}" DEFAULT')
        )
        created.append(default)
    for start, end in month_ranges(now or utcnow(), months):
        name = partition_name(start, parent)
        if name in existing:
            continue
        # Bounds are literals from our own datetimes: DDL takes no bind parameters.
        conn.execute(
            text(
                f'CREATE TABLE "{PARTITION_SCHEMA}"."{name}" PARTITION OF "{parent}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )
        created.append(name)
    return created


async def ensure_partitions(
    db: Database,
    now: datetime | None = None,
    months: int = MONTHS_AHEAD,
    parent: str = PARENT,
) -> list[str]:
    """Maintenance entry point (the relay calls it on start and then periodically, for
    events; the play history's maintenance for plays)."""
    if db.backend != "postgresql":
        return []
    async with db.engine.begin() as conn:
        return await conn.run_sync(ensure_partitions_sync, now, months, parent)


def drop_partitions_before_sync(conn: Connection, cutoff: datetime, parent: str) -> list[str]:
    """Drop the monthly partitions of ``parent`` wholly older than ``cutoff`` (retention):
    dropping a month is instant where deleting its rows is not. Returns their names."""
    if not is_partitioned(conn, parent):
        return []
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": parent},
    ).scalars()
    dropped = []
    for name in names:
        start = _month_of(name, parent)
        if start is not None and next_month(start) <= cutoff:
            conn.execute(text(f'DROP TABLE "{PARTITION_SCHEMA}"."{name}"'))
            dropped.append(name)
    return dropped


def _month_of(name: str, parent: str) -> datetime | None:
    """The month a partition named by :func:`partition_name` holds (None: the default)."""
    suffix = name.removeprefix(f"{parent}_")
    year, _, month = suffix.partition("_")
    if not (year.isdigit() and month.isdigit()):
        return None
    return datetime(int(year), int(month), 1, tzinfo=UTC)

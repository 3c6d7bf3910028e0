"""Events: the outbox and platform_events (hypertable, monthly partitions, or plain on SQLite).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Self-contained: the partitioning and TimescaleDB steps below are frozen copies of what
``tunedeck.events.partitions`` and ``tunedeck.events.timescale`` did when this revision
was written, so later changes to those modules cannot change what this revision does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "event_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        _ts("occurred_at"),
        sa.Column("payload", sa.JSON(), nullable=False),
        _ts("stored_at", nullable=True),
        _ts("published_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_event_outbox_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_event_outbox"),
        sa.UniqueConstraint("event_id", name="uq_event_outbox_event_id"),
    )
    op.create_index("ix_event_outbox_account_id", "event_outbox", ["account_id"])

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    hypertable = postgres and _enable_timescale(bind)
    table_kwargs: dict[str, Any] = {}
    if postgres and not hypertable:
        table_kwargs["postgresql_partition_by"] = "RANGE (occurred_at)"
    op.create_table(
        "platform_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        _ts("occurred_at"),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("actor_key_id", sa.String(64), nullable=True),
        sa.Column("actor_label", sa.String(100), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("track", sa.JSON(), nullable=True),
        _ts("stored_at"),
        sa.PrimaryKeyConstraint("id", "occurred_at", name="pk_platform_events"),
        **table_kwargs,
    )
    op.create_index(
        "ix_platform_events_account_time", "platform_events", ["account_id", "occurred_at", "id"]
    )
    op.create_index(
        "ix_platform_events_account_type_time",
        "platform_events",
        ["account_id", "event_type", "occurred_at", "id"],
    )
    if hypertable:
        _create_hypertable(bind)
    elif postgres:
        _ensure_partitions(bind, datetime.now(UTC))


def downgrade() -> None:
    op.drop_table("platform_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'DROP SCHEMA IF EXISTS "{PARTITION_SCHEMA}" CASCADE')
    op.drop_index("ix_event_outbox_account_id", table_name="event_outbox")
    op.drop_table("event_outbox")


# ---- frozen helpers (as of this revision) --------------------------------------------

logger = logging.getLogger("alembic.runtime.migration")

PARTITION_SCHEMA = "event_partitions"
PARENT = "platform_events"
MONTHS_AHEAD = 2  # this month and the next one
CHUNK_INTERVAL = "7 days"


def _enable_timescale(conn: Connection) -> bool:
    """Try ``CREATE EXTENSION timescaledb`` in a savepoint; ``False`` if it is not available."""
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError as exc:
        logger.info("TimescaleDB not available, partitioning platform_events by month: %s", exc)
        return False
    return True


def _create_hypertable(conn: Connection) -> None:
    """Turn the (plain, empty) table into a hypertable chunked on ``occurred_at``."""
    conn.execute(
        sa.text(
            "SELECT create_hypertable(CAST(:table AS regclass), 'occurred_at', "
            "chunk_time_interval => CAST(:chunk AS interval))"
        ),
        {"table": PARENT, "chunk": CHUNK_INTERVAL},
    )


def _month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def _ensure_partitions(conn: Connection, now: datetime) -> None:
    """The schema, the default partition and this month's and the next month's partitions
    of the (just created, hence empty and partition-less) partitioned table."""
    conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{PARTITION_SCHEMA}"'))
    conn.execute(
        sa.text(
            f'CREATE TABLE "{PARTITION_SCHEMA}"."{PARENT}_default" PARTITION OF "{PARENT}" DEFAULT'
        )
    )
    start = _month_start(now)
    for _ in range(MONTHS_AHEAD):
        end = _next_month(start)
        name = f"{PARENT}_{start.year:04d}_{start.month:02d}"
        # Bounds are literals from our own datetimes: DDL takes no bind parameters.
        conn.execute(
            sa.text(
                f'CREATE TABLE "{PARTITION_SCHEMA}"."{name}" PARTITION OF "{PARENT}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
        )
        start = end

"""Play history: plays (partitioned by month or a hypertable, as platform_events is),
the open play of each account, streams.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

``plays`` follows ``platform_events``: a hypertable where TimescaleDB made that one a
hypertable, else monthly partitions (``events.partitions``, which maintenance keeps
ahead afterwards), plain on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    hypertable = postgres and _is_hypertable(bind, "platform_events")
    table_kwargs: dict[str, Any] = {}
    if postgres and not hypertable:
        table_kwargs["postgresql_partition_by"] = "RANGE (started_at)"
    op.create_table(
        "plays",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("item_uri", sa.String(length=200), nullable=True),
        sa.Column("item_type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artists", sa.JSON(), nullable=False),
        sa.Column("artist", sa.String(length=300), nullable=True),
        sa.Column("album", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("art_url", sa.String(length=1000), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_estimated", sa.Boolean(), nullable=False),
        sa.Column("listened_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("context_uri", sa.String(length=200), nullable=True),
        sa.Column("context_type", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("skipped_by", sa.String(length=100), nullable=True),
        sa.Column("stream_id", sa.Uuid(), nullable=True),
        sa.Column("offset_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", "started_at", name=op.f("pk_plays")),
        **table_kwargs,
    )
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plays_account_time", ["account_id", "started_at", "id"], unique=False
        )
        batch_op.create_index("ix_plays_stream_time", ["stream_id", "started_at"], unique=False)
    if hypertable:
        _create_hypertable(bind)
    elif postgres:
        _ensure_partitions(bind, datetime.now(UTC))

    op.create_table(
        "open_plays",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("play_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_uri", sa.String(length=200), nullable=True),
        sa.Column("item_type", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("context_uri", sa.String(length=200), nullable=True),
        sa.Column("is_playing", sa.Boolean(), nullable=False),
        sa.Column("progress_ms", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listened_ms", sa.BigInteger(), nullable=False),
        sa.Column("stream_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_open_plays_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_open_plays")),
    )
    op.create_table(
        "streams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("stopped_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_streams_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streams")),
    )
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.create_index(
            "ix_streams_account_started", ["account_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "uq_streams_one_open",
            ["account_id"],
            unique=True,
            postgresql_where=sa.text("stopped_at IS NULL"),
            sqlite_where=sa.text("stopped_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_streams_one_open",
            postgresql_where=sa.text("stopped_at IS NULL"),
            sqlite_where=sa.text("stopped_at IS NULL"),
        )
        batch_op.drop_index("ix_streams_account_started")

    op.drop_table("streams")
    op.drop_table("open_plays")
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.drop_index("ix_plays_stream_time")
        batch_op.drop_index("ix_plays_account_time")

    op.drop_table("plays")


# ---- frozen helpers (as of this revision: what tunedeck.events.partitions and
# tunedeck.events.timescale did then, so later changes to them cannot change it) --------

PARTITION_SCHEMA = "event_partitions"
PARENT = "plays"
MONTHS_AHEAD = 2  # this month and the next one
CHUNK_INTERVAL = "7 days"


def _is_hypertable(conn: Connection, table: str) -> bool:
    """Whether ``table`` is a TimescaleDB hypertable here."""
    extension = "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
    if not conn.execute(sa.text(extension)).first():
        return False
    found = conn.execute(
        sa.text("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = :t"),
        {"t": table},
    ).first()
    return found is not None


def _create_hypertable(conn: Connection) -> None:
    """Turn the (plain, empty) table into a hypertable chunked on ``started_at``."""
    conn.execute(
        sa.text(
            "SELECT create_hypertable(CAST(:table AS regclass), 'started_at', "
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

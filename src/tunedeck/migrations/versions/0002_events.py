"""Events: the outbox and platform_events (hypertable, monthly partitions, or plain on SQLite).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from tunedeck.events import partitions, timescale

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
    hypertable = postgres and timescale.enable_extension(bind)
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
        timescale.create_hypertable(bind)
    elif postgres:
        partitions.ensure_partitions_sync(bind)


def downgrade() -> None:
    op.drop_table("platform_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'DROP SCHEMA IF EXISTS "{partitions.PARTITION_SCHEMA}" CASCADE')
    op.drop_index("ix_event_outbox_account_id", table_name="event_outbox")
    op.drop_table("event_outbox")

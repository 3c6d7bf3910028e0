"""Play history: closed months summed up (per track, per end reason and source, per
requester) and the list of months summed up, so a long period's stats read the sums.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09

The tables start empty: the history's upkeep sums up each closed month on its next pass
(``history.months``); until then the stats read the plays, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = ("play_month_tracks", "play_month_totals", "play_month_requesters")


def _account(table: str) -> list[Any]:
    """The columns and constraints every sum table starts with."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f(f"fk_{table}_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "play_months",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_play_months_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_play_months")),
    )
    op.create_table(
        "play_month_tracks",
        *_account("play_month_tracks"),
        sa.Column("item_uri", sa.String(length=200), nullable=True),
        sa.Column("artist", sa.String(length=300), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("listened_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "play_month_totals",
        *_account("play_month_totals"),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("listened_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "play_month_requesters",
        *_account("play_month_requesters"),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("listened_ms", sa.BigInteger(), nullable=False),
    )
    for table in SUMS:
        op.create_index(f"ix_{table}_account_month", table, ["account_id", "month"], unique=False)


def downgrade() -> None:
    for table in SUMS:
        op.drop_index(f"ix_{table}_account_month", table_name=table)
        op.drop_table(table)
    op.drop_table("play_months")

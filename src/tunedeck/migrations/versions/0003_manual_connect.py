"""Player: manual-connect windows (one row per account, shared by every process).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spotify_manual_connect",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_spotify_manual_connect_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_spotify_manual_connect"),
    )
    op.create_index(
        "ix_spotify_manual_connect_expires_at", "spotify_manual_connect", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_spotify_manual_connect_expires_at", table_name="spotify_manual_connect")
    op.drop_table("spotify_manual_connect")

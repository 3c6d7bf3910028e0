"""Real time: watch heartbeats, which process has live clients of which account.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "realtime_watchers",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "process_id", name="pk_realtime_watchers"),
    )
    op.create_index("ix_realtime_watchers_expires_at", "realtime_watchers", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_realtime_watchers_expires_at", table_name="realtime_watchers")
    op.drop_table("realtime_watchers")

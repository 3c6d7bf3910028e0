"""First run: the one-time setup link (its code kept as a hash) and when setup finished.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "setup_links",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_setup_links_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_links")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_setup_links_code_hash")),
    )
    with op.batch_alter_table("setup_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_setup_links_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("setup_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_setup_links_account_id"))

    op.drop_table("setup_links")

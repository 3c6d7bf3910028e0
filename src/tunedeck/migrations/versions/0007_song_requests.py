"""Song requests: the queue, the channel's rules (and queue lock), bans, the feeder's
resume point, and chat bots' tokens.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "chat_tokens",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("trust_roles", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_chat_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_chat_tokens_token_hash")),
    )
    with op.batch_alter_table("chat_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_tokens_account_id"), ["account_id"], unique=False)

    op.create_table(
        "request_bans",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_platform", sa.String(length=32), nullable=False),
        sa.Column("viewer_id", sa.String(length=100), nullable=False),
        sa.Column("viewer_login", sa.String(length=100), nullable=True),
        sa.Column("viewer_name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_request_bans_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "viewer_platform", "viewer_id", name=op.f("pk_request_bans")
        ),
    )
    op.create_table(
        "request_playback",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("resume_context_uri", sa.String(length=200), nullable=True),
        sa.Column("resume_item_uri", sa.String(length=100), nullable=True),
        sa.Column("resume_position_ms", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_request_playback_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_request_playback")),
    )
    op.create_table(
        "request_settings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_request_settings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_request_settings")),
    )
    op.create_table(
        "song_requests",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_platform", sa.String(length=32), nullable=False),
        sa.Column("viewer_id", sa.String(length=100), nullable=False),
        sa.Column("viewer_login", sa.String(length=100), nullable=True),
        sa.Column("viewer_name", sa.String(length=100), nullable=False),
        sa.Column("viewer_role", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("track_uri", sa.String(length=100), nullable=False),
        sa.Column("track", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_text", sa.String(length=300), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_song_requests_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_song_requests")),
    )
    with op.batch_alter_table("song_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_song_requests_account_state_rank", ["account_id", "state", "rank"], unique=False
        )
        batch_op.create_index(
            "ix_song_requests_account_viewer",
            ["account_id", "viewer_platform", "viewer_id", "created_at"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("song_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_song_requests_account_viewer")
        batch_op.drop_index("ix_song_requests_account_state_rank")

    op.drop_table("song_requests")
    op.drop_table("request_settings")
    op.drop_table("request_playback")
    op.drop_table("request_bans")
    with op.batch_alter_table("chat_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_tokens_account_id"))

    op.drop_table("chat_tokens")

"""Plays: a normalized search column (trigram-indexed on PostgreSQL where ``pg_trgm``
exists), a stream's plays indexed in their order, requested plays indexed apart.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08

The search text of existing plays is computed here as the recorder computes it (in
Python: NFKC and case folding are not the databases' ``lower``). Without the extension
(not installed on the server, or not allowed to this role) the column stays unindexed:
searches still work, reading the column.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger(__name__)
BATCH = 5000


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    _fill_search_text(bind)
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.alter_column("search_text", existing_type=sa.Text(), nullable=False)
        batch_op.drop_index("ix_plays_stream_time")
        batch_op.create_index(
            "ix_plays_stream_time", ["stream_id", "started_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_plays_requested",
            ["account_id", "started_at"],
            unique=False,
            postgresql_where=sa.text("requested_by IS NOT NULL"),
            sqlite_where=sa.text("requested_by IS NOT NULL"),
        )
    if bind.dialect.name == "postgresql" and _trigrams_available(bind):
        op.create_index(
            "ix_plays_search",
            "plays",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        )


def _fill_search_text(bind: Connection) -> None:
    """Every play's search text, in batches in the order of ids (a play's id is unique:
    the time in the primary key is the partitioning's), each batch after the last."""
    plays = sa.table(
        "plays",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("artists", sa.JSON()),
        sa.column("album", sa.String()),
        sa.column("requested_by", sa.String()),
        sa.column("search_text", sa.Text()),
    )
    after: uuid.UUID | None = None
    while True:
        query = sa.select(
            plays.c.id, plays.c.name, plays.c.artists, plays.c.album, plays.c.requested_by
        )
        if after is not None:
            query = query.where(plays.c.id > after)
        rows = bind.execute(query.order_by(plays.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(
            plays.update()
            .where(plays.c.id == sa.bindparam("play_id"))
            .values(search_text=sa.bindparam("text")),
            [
                {
                    "play_id": play_id,
                    "text": search_text_of(name, artists or (), album, requested_by),
                }
                for play_id, name, artists, album, requested_by in rows
            ],
        )
        after = rows[-1][0]


def _trigrams_available(bind: Connection) -> bool:
    """Create ``pg_trgm`` if the server has it and this role may (a trusted extension:
    the database's owner may); a refusal leaves the migration's transaction intact."""
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if found is None:
        logger.warning("pg_trgm is not available: play searches read every play")
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        logger.warning("pg_trgm could not be created (%s): play searches read every play", exc)
        return False
    return True


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_plays_search")
    with op.batch_alter_table("plays", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_plays_requested",
            postgresql_where=sa.text("requested_by IS NOT NULL"),
            sqlite_where=sa.text("requested_by IS NOT NULL"),
        )
        batch_op.drop_index("ix_plays_stream_time")
        batch_op.create_index("ix_plays_stream_time", ["stream_id", "started_at"], unique=False)
        batch_op.drop_column("search_text")


# ---- frozen helper (as of this revision: tunedeck.history.models' search text then) ----


def search_text_of(
    name: str | None, artists: Iterable[str], album: str | None, requested_by: str | None
) -> str:
    """The fields, NFKC-normalized and case-folded, one per line (a search never matches
    across two fields)."""
    parts = [name, *artists, album, requested_by]
    return "\n".join(unicodedata.normalize("NFKC", part).casefold() for part in parts if part)

"""Tables of the events domain: the outbox (durable with the action) and ``platform_events``.

On PostgreSQL ``platform_events`` is range-partitioned by ``occurred_at`` (or a
TimescaleDB hypertable), so its primary key must include the time: it is
``(id, occurred_at)``, and the time is fixed when the event is recorded so a
redelivery hits the same key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    """An event recorded with its action and not yet both stored and published.

    ``seq`` is the delivery order. The relay tracks the store and the publish
    separately (``stored_at``, ``published_at``) and deletes the row once both are done.
    """

    __tablename__ = "event_outbox"

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime]
    # The EventOut in JSON form: what is stored and what is published.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    stored_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)

    def __repr__(self) -> str:
        return f"OutboxEvent(seq={self.seq!r}, event_id={self.event_id!r})"


class PlatformEvent(Base):
    """One stored event. Read newest first per account, optionally by type."""

    __tablename__ = "platform_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(primary_key=True)
    # No foreign key: the store is a log that must accept every relayed event.
    account_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(32))
    actor_key_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(100))
    actor_kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    track: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stored_at: Mapped[datetime]

    # Ascending indexes serve "newest first" by a backward scan.
    __table_args__ = (
        Index("ix_platform_events_account_time", "account_id", "occurred_at", "id"),
        Index(
            "ix_platform_events_account_type_time", "account_id", "event_type", "occurred_at", "id"
        ),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

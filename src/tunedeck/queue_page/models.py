"""The public queue page's link: one per account at most; no row, no page."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base, utcnow


class QueuePageLink(Base):
    """The account's public queue page, reached at ``/q/<public_id>``.

    The id is random and unguessable; it is kept as it is (not hashed) because the
    dashboard shows the link again, and all it opens is what the page shows anyway.
    Replacing it (a new link) or deleting the row turns the old link off at once.
    """

    __tablename__ = "queue_page_links"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

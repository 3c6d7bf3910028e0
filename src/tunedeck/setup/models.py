"""The setup link's table. The code itself is shown once (printed by ``serve``) and
kept here only as its SHA-256 hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base, IdMixin, utcnow


class SetupLink(IdMixin, Base):
    """One setup link: usable once, until it expires, to create the streamer's account.

    ``used_at`` and ``account_id`` are set when it creates the account; ``completed_at``
    when the streamer finishes the last step. A completed link means setup is done: no
    new link is printed afterwards."""

    __tablename__ = "setup_links"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), default=None, index=True
    )
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

"""Tables of the player domain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base


class ManualConnectWindow(Base):
    """An account's manual-connect window: poll Spotify for it until ``expires_at``.

    In the database (not in memory) so every process, and the poller, sees the same
    window. One row per account; stopping deletes it.
    """

    __tablename__ = "spotify_manual_connect"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # Label of the principal that started it, for the dashboard.
    started_by: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        return f"ManualConnectWindow(account_id={self.account_id!r})"

"""Tables of the real-time domain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base

PROCESS_ID_LENGTH = 200
CLIENT_ID_LENGTH = 200


class RealtimeWatcher(Base):
    """A heartbeat: ``process_id`` has (or had, within the linger) live clients of an account.

    In the database so that every process, the pollers of other processes included, can
    tell which accounts are watched. One row per account and process; the process
    renews ``expires_at`` while its clients stay and stops when the last one left, so
    the row ends the linger after that. Expired rows are left to housekeeping.

    No foreign key to ``accounts``: a heartbeat must never fail, for every account of
    the process, because one account was deleted meanwhile; its row simply expires.
    """

    __tablename__ = "realtime_watchers"

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(PROCESS_ID_LENGTH), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"RealtimeWatcher(account_id={self.account_id!r}, process_id={self.process_id!r})"


class SpotifyAppPause(Base):
    """Until when a Spotify app (client id) must not be polled, by any process: a poller
    that got a 429 writes it here, and every poller reads it at each reconcile, so the
    app's accounts polled by other processes pause too (Spotify limits the app, not an
    account)."""

    __tablename__ = "spotify_app_pauses"

    client_id: Mapped[str] = mapped_column(String(CLIENT_ID_LENGTH), primary_key=True)
    paused_until: Mapped[datetime]

    def __repr__(self) -> str:
        return f"SpotifyAppPause(client_id={self.client_id!r})"

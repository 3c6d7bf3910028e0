"""Tables of the connections domain.

Columns marked ``encrypted_info()`` hold keyring ciphertexts (``tunedeck.kit.crypto``),
never plaintext. Encrypt and decrypt them in the repository with
``encryption_context(Model.column, account_id)``; key rotation finds them by the mark.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base, IdMixin, TimestampMixin, encrypted_info, utcnow

SPOTIFY = "spotify"


class ConnectionStatus:
    """Values of ``ChannelConnection.status``."""

    ACTIVE = "active"
    # The refresh token was refused (expired or revoked): the streamer must connect again.
    NEEDS_REAUTH = "needs_reauth"
    DISCONNECTED = "disconnected"


class AppCredential(IdMixin, TimestampMixin, Base):
    """The platform app (client id and secret) an account connects through."""

    __tablename__ = "app_credentials"
    __table_args__ = (UniqueConstraint("account_id", "platform"),)

    # Indexed by the unique constraint, which starts with it.
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32), default=SPOTIFY)
    client_id: Mapped[str] = mapped_column(Text, info=encrypted_info())
    client_secret: Mapped[str] = mapped_column(Text, info=encrypted_info())


class ChannelConnection(IdMixin, TimestampMixin, Base):
    """An account's OAuth grant on a platform (for Spotify: the streamer's user)."""

    __tablename__ = "channel_connections"
    __table_args__ = (UniqueConstraint("account_id", "platform"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32), default=SPOTIFY)
    # The platform's id of the connected user (Spotify user id).
    platform_channel_id: Mapped[str | None] = mapped_column(String(255), default=None)
    access_token: Mapped[str] = mapped_column(Text, info=encrypted_info())
    refresh_token: Mapped[str | None] = mapped_column(Text, info=encrypted_info(), default=None)
    expires_at: Mapped[datetime]
    # Space-separated, as OAuth writes them.
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default=ConnectionStatus.ACTIVE)


class OAuthState(IdMixin, Base):
    """One pending authorization (CSRF ``state`` + PKCE verifier), short-lived and single-use."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32), default=SPOTIFY)
    code_verifier: Mapped[str] = mapped_column(Text, info=encrypted_info())
    # The redirect_uri sent to the platform (must be repeated at the token exchange).
    redirect_uri: Mapped[str] = mapped_column(Text)
    # Where to send the browser once connected (a path of our own UI), if anywhere.
    return_to: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

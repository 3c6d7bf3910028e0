"""Tables of the song requests domain.

``request_settings`` holds a channel's rules and is also its lock: every change to the
queue of one account first bumps that row's ``version`` (``UPDATE … SET version =
version + 1``), so two submissions of one viewer at once are decided one after the other,
on fresh counts, in every process and on both databases.

A request's place in the queue is ``rank`` (sparse integers, smaller plays sooner); its
resolved song is kept whole in ``track`` so the queue reads without asking Spotify.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base, IdMixin, utcnow


class RequestSettingsRow(Base):
    """A channel's request settings (``RequestSettings`` as JSON) and its queue lock."""

    __tablename__ = "request_settings"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SongRequest(IdMixin, Base):
    """One viewer's request, from the moment it was taken to the moment it ended."""

    __tablename__ = "song_requests"
    __table_args__ = (
        Index("ix_song_requests_account_state_rank", "account_id", "state", "rank"),
        Index(
            "ix_song_requests_account_viewer",
            "account_id",
            "viewer_platform",
            "viewer_id",
            "created_at",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Who asked (from the chat bot's headers or variables, or the key's label).
    viewer_platform: Mapped[str] = mapped_column(String(32))
    viewer_id: Mapped[str] = mapped_column(String(100))
    viewer_login: Mapped[str | None] = mapped_column(String(100), default=None)
    viewer_name: Mapped[str] = mapped_column(String(100))
    viewer_role: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # chat, api, dashboard
    query: Mapped[str] = mapped_column(String(500))
    track_uri: Mapped[str] = mapped_column(String(100))
    # name, artists, artist_uris, album, duration_ms, explicit, album_art_url
    track: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending, queued, sent, playing, played, skipped, removed, rejected
    state: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    reason_text: Mapped[str | None] = mapped_column(String(300), default=None)
    # Who made the last change (a key's label, "chat:<login>", "tunedeck").
    actor: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class RequestBan(Base):
    """A viewer who may not request on a channel."""

    __tablename__ = "request_bans"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    viewer_platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    viewer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    viewer_login: Mapped[str | None] = mapped_column(String(100), default=None)
    viewer_name: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    actor: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestPlayback(Base):
    """What the request feeder must remember across restarts and takeovers: the request
    handed to Spotify and not yet seen playing, and where the streamer's own music was
    when a request interrupted it (to resume it there)."""

    __tablename__ = "request_playback"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    resume_context_uri: Mapped[str | None] = mapped_column(String(200), default=None)
    resume_item_uri: Mapped[str | None] = mapped_column(String(100), default=None)
    resume_position_ms: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatToken(IdMixin, Base):
    """A chat bot's secret for the chat door (in the URL: bots can do nothing else).

    Kept as a hash like overlay tokens. ``trust_roles``: whether the role the bot reports
    (moderator, VIP, subscriber) is believed; without it every viewer is a regular one and
    moderator commands are refused.
    """

    __tablename__ = "chat_tokens"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    trust_roles: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

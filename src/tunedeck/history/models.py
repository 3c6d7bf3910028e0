"""Tables of the play history: plays, the open play of each account, and streams.

``plays`` is the log: on PostgreSQL it is range-partitioned by ``started_at`` like
``platform_events`` (``events.partitions``), so its primary key includes the time. A
partitioned table cannot carry a unique index that leaves the partition key out, so
"at most one open play per account" is held by ``open_plays`` instead: one row per
account (its primary key), inserted with the play and deleted in the transaction that
closes it, on both databases. That row also carries what a process taking the account
over needs to continue the play (the item, the playhead and when it was read), so
nothing is written while a track simply plays on.

``streams`` is small and plain: a partial unique index keeps one open stream per account.

Searching plays reads one column, ``search_text``: the play's name, artists, album and
requester, normalized (NFKC, case-folded) once when it is written, so a search compares
one string instead of lowering four per row. On PostgreSQL a trigram index (``pg_trgm``)
answers ``search_text LIKE '%...%'`` without reading every play; where the extension is
missing, or on SQLite, the search reads the one column of the account's plays.

A **closed month** of an account's plays (``history.months``) is summed up once, in
three small tables keyed by the figures the stats group by: per track and artist
(``play_month_tracks``), per end reason and source (``play_month_totals``), per
requester (``play_month_requesters``); ``play_months`` lists the months summed up. A
year's stats then read some sixty thousand sums instead of two hundred thousand plays.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from tunedeck.kit.db import Base, utcnow

SEARCH_SEPARATOR = "\n"
"""Between the fields of ``search_text``: a search never matches across two fields."""


def normalized(text: str) -> str:
    """Text as searches compare it: compatibility forms folded (NFKC), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_text_of(
    name: str | None, artists: Iterable[str], album: str | None, requested_by: str | None
) -> str:
    parts = [name, *artists, album, requested_by]
    return SEARCH_SEPARATOR.join(normalized(part) for part in parts if part)


def _search_text_default(context: DefaultExecutionContext) -> str:
    """The search text of the play being inserted, from its own fields."""
    row: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return search_text_of(
        row.get("name"), row.get("artists") or (), row.get("album"), row.get("requested_by")
    )


class Play(Base):
    """One item that played (a track, an episode, an ad, a local file), start to end."""

    __tablename__ = "plays"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(primary_key=True)
    # No foreign key: like platform_events, a partitioned log.
    account_id: Mapped[uuid.UUID]
    item_uri: Mapped[str | None] = mapped_column(String(200))
    item_type: Mapped[str] = mapped_column(String(16))  # track, episode, ad, local
    name: Mapped[str] = mapped_column(String(500))
    artists: Mapped[list[str]] = mapped_column(JSON)
    # The first artist, kept apart so the stats group by a column.
    artist: Mapped[str | None] = mapped_column(String(300))
    album: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int | None]
    art_url: Mapped[str | None] = mapped_column(String(1000))
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # ended_at is an estimate: observation had a gap (TuneDeck down, nobody polling).
    ended_estimated: Mapped[bool] = mapped_column(default=False)
    listened_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    # natural, skipped, previous, replaced, stopped, unknown
    end_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    context_uri: Mapped[str | None] = mapped_column(String(200), default=None)
    context_type: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[str] = mapped_column(String(16))  # context, request, queue
    request_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    requested_by: Mapped[str | None] = mapped_column(String(100), default=None)
    skipped_by: Mapped[str | None] = mapped_column(String(100), default=None)
    stream_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    offset_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Written with the play (module doc); set_request appends the requester.
    search_text: Mapped[str] = mapped_column(Text, default=_search_text_default)

    __table_args__ = (
        Index("ix_plays_account_time", "account_id", "started_at", "id"),
        # A stream's plays in order (pages, exports) straight from the index.
        Index("ix_plays_stream_time", "stream_id", "started_at", "id"),
        # The requested plays of a period (the top requesters) without reading the rest.
        Index(
            "ix_plays_requested",
            "account_id",
            "started_at",
            postgresql_where=text("requested_by IS NOT NULL"),
            sqlite_where=text("requested_by IS NOT NULL"),
        ),
        Index(
            "ix_plays_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            # Each play into the index as it is written: plays come one at a time, and a
            # pending list (fastupdate) is read in full by every search until vacuumed.
            postgresql_with={"fastupdate": "off"},
            info={"postgresql_only": True},
        ).ddl_if(dialect="postgresql"),
        {"postgresql_partition_by": "RANGE (started_at)"},
    )


class OpenPlay(Base):
    """The play of an account that has not ended, and where its playhead was last seen."""

    __tablename__ = "open_plays"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    play_id: Mapped[uuid.UUID]
    started_at: Mapped[datetime]
    item_uri: Mapped[str | None] = mapped_column(String(200))
    item_type: Mapped[str] = mapped_column(String(16))
    duration_ms: Mapped[int | None]
    context_uri: Mapped[str | None] = mapped_column(String(200), default=None)
    is_playing: Mapped[bool]
    progress_ms: Mapped[int]
    seen_at: Mapped[datetime]
    listened_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    stream_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class Stream(Base):
    """A period the streamer was live; its plays carry their offset from its start."""

    __tablename__ = "streams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who started and stopped it (a key's label, "operator"), or "idle" when closed for it.
    started_by: Mapped[str] = mapped_column(String(100))
    stopped_by: Mapped[str | None] = mapped_column(String(100), default=None)

    __table_args__ = (
        Index("ix_streams_account_started", "account_id", "started_at"),
        Index(
            "uq_streams_one_open",
            "account_id",
            unique=True,
            postgresql_where=text("stopped_at IS NULL"),
            sqlite_where=text("stopped_at IS NULL"),
        ),
    )


class PlayMonth(Base):
    """A month (UTC) of an account's plays summed up in the ``play_month_*`` tables."""

    __tablename__ = "play_months"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[datetime] = mapped_column(primary_key=True)  # its first instant
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlayMonthTrack(Base):
    """A track's (and first artist's) plays in a closed month."""

    __tablename__ = "play_month_tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[datetime]
    item_uri: Mapped[str | None] = mapped_column(String(200))
    artist: Mapped[str | None] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(500))  # the greatest of the month's names
    plays: Mapped[int]
    listened_ms: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_play_month_tracks_account_month", "account_id", "month"),)


class PlayMonthTotal(Base):
    """A closed month's plays by how they ended and where they came from."""

    __tablename__ = "play_month_totals"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[datetime]
    end_reason: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    plays: Mapped[int]
    listened_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_play_month_totals_account_month", "account_id", "month"),)


class PlayMonthRequester(Base):
    """A requester's plays in a closed month."""

    __tablename__ = "play_month_requesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(String(100))
    plays: Mapped[int]
    listened_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_play_month_requesters_account_month", "account_id", "month"),)

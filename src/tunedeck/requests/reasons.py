"""Why a song request was refused or ended: a fixed list of codes, each with the sentence a
viewer reads in chat (the one table of them), and the :class:`Refusal` carrying both.

Sentences are lower-case clauses, without a final period: the chat door puts the viewer's
name before them ("@name, that's an album link — send a track"). ``{fields}`` are filled
by :func:`refuse` with text the caller formats (durations, counts, the streamer's message).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """The codes, stored with refused and removed requests and shown to API callers."""

    # What the viewer typed (requests/parsing.py).
    EMPTY = "empty"
    TOO_LONG = "too_long"
    ALBUM_LINK = "album_link"
    PLAYLIST_LINK = "playlist_link"
    ARTIST_LINK = "artist_link"
    PODCAST = "podcast"
    NOT_A_TRACK = "not_a_track"
    SHORT_LINK = "short_link"
    BAD_LINK = "bad_link"
    OTHER_SITE = "other_site"
    # What Spotify answered (requests/matching.py).
    NOT_FOUND = "not_found"
    NOT_AVAILABLE = "not_available"
    SPOTIFY_UNAVAILABLE = "spotify_unavailable"
    # The channel's rules (requests/rules.py).
    CLOSED = "closed"
    NOT_ALLOWED = "not_allowed"
    BANNED = "banned"
    TOO_MANY_WAITING = "too_many_waiting"
    COOLDOWN = "cooldown"
    QUEUE_FULL = "queue_full"
    TRACK_BLOCKED = "track_blocked"
    ARTIST_BLOCKED = "artist_blocked"
    NOT_IN_ALLOWLIST = "not_in_allowlist"
    EXPLICIT = "explicit"
    TRACK_TOO_LONG = "track_too_long"
    ALREADY_QUEUED = "already_queued"
    PLAYED_RECENTLY = "played_recently"
    # What happened to a request later (the service).
    REJECTED = "rejected"
    REMOVED = "removed"
    WITHDRAWN = "withdrawn"
    CLEARED = "cleared"


SENTENCES: dict[Reason, str] = {
    Reason.EMPTY: "tell me what to play: !sr artist - title",
    Reason.TOO_LONG: "that's too long — send a song name or a Spotify link "
    "(at most {limit} characters)",
    Reason.ALBUM_LINK: "that's an album link — send a track",
    Reason.PLAYLIST_LINK: "that's a playlist link — send a track",
    Reason.ARTIST_LINK: "that's an artist link — send a track",
    Reason.PODCAST: "podcasts can't be requested",
    Reason.NOT_A_TRACK: "that Spotify link isn't a song — send a track link or a song name",
    Reason.SHORT_LINK: "short spotify.link links can't be opened here — "
    "paste the full open.spotify.com link",
    Reason.BAD_LINK: "that Spotify link looks cut off — paste the whole link",
    Reason.OTHER_SITE: "only Spotify links or a song name",
    Reason.NOT_FOUND: "couldn't find that song",
    Reason.NOT_AVAILABLE: "that song isn't available in the streamer's country",
    Reason.SPOTIFY_UNAVAILABLE: "Spotify isn't answering right now — try again in a minute",
    Reason.CLOSED: "requests are closed: {message}",
    Reason.NOT_ALLOWED: "you can't request songs on this channel",
    Reason.BANNED: "you can't request songs on this channel",
    Reason.TOO_MANY_WAITING: "you already have {waiting} waiting (max {limit})",
    Reason.COOLDOWN: "wait {wait} before your next request",
    Reason.QUEUE_FULL: "the queue is full ({limit})",
    Reason.TRACK_BLOCKED: "that song is blocked on this channel",
    Reason.ARTIST_BLOCKED: "that artist is blocked on this channel",
    Reason.NOT_IN_ALLOWLIST: "only songs from the streamer's request playlist can be requested",
    Reason.EXPLICIT: "explicit songs are off on this channel",
    Reason.TRACK_TOO_LONG: "that song is {length} long — the limit is {limit}",
    Reason.ALREADY_QUEUED: "that song is already in the queue",
    Reason.PLAYED_RECENTLY: "that song was played in the last {window}",
    Reason.REJECTED: "a moderator turned that request down",
    Reason.REMOVED: "a moderator removed that request",
    Reason.WITHDRAWN: "you took that request back",
    Reason.CLEARED: "the queue was cleared",
}
"""Every reason's sentence (a test checks that each code has one)."""


def fields_of(reason: Reason) -> frozenset[str]:
    """The ``{fields}`` a reason's sentence needs."""
    names = (name for _, name, _, _ in string.Formatter().parse(SENTENCES[reason]))
    return frozenset(name for name in names if name)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused request: its code, and the sentence the viewer reads."""

    code: Reason
    sentence: str


def refuse(reason: Reason, **facts: str | int) -> Refusal:
    """The refusal for ``reason``, its sentence filled with ``facts`` (exactly its fields)."""
    needed = fields_of(reason)
    if needed != set(facts):
        raise ValueError(f"{reason} needs {sorted(needed)}, got {sorted(facts)}")
    return Refusal(reason, SENTENCES[reason].format(**facts))

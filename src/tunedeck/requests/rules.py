"""The rule check: may this viewer have this song now? Pure and deterministic, so that the
service can run it once cheaply before asking Spotify, and again under the account's
lock, on fresh counts, before storing the request (two ``!sr`` of one viewer at once
are told apart there, not here).

Boundaries: a viewer at their cap (``waiting == max_waiting``) is refused; a cooldown
has ended at exactly ``cooldown`` after the last request; a song exactly as long as the
limit is allowed; a song played exactly the duplicate window ago may be requested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tunedeck.requests.reasons import Reason, Refusal, refuse
from tunedeck.requests.settings import RequestSettings, RoleRules
from tunedeck.requests.text import format_duration, plural
from tunedeck.requests.viewers import Role
from tunedeck.spotify.models import Track

#: What viewers read when a closed channel left no message.
CLOSED_DEFAULT = "try again later"


@dataclass(frozen=True, slots=True)
class ViewerFacts:
    """What the service knows of the viewer asking."""

    role: Role
    banned: bool = False
    #: Their requests waiting now (pending approval or queued).
    waiting: int = 0
    #: When they last made a request that was taken (their cooldown starts there).
    last_request_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueueFacts:
    """What the service knows of the channel's queue."""

    #: Requests waiting (pending approval or queued).
    length: int = 0
    waiting_uris: frozenset[str] = frozenset()
    #: When each recently played song last played.
    played_at: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrackFacts:
    """What the rules look at of a song."""

    uri: str
    artist_uris: tuple[str, ...]
    duration_ms: int
    explicit: bool
    #: The uri asked for when Spotify answered another copy of it (relinking).
    linked_uri: str | None = None

    @classmethod
    def of(cls, track: Track) -> TrackFacts:
        return cls(
            uri=track.uri,
            artist_uris=tuple(artist.uri for artist in track.artists if artist.uri),
            duration_ms=track.duration_ms,
            explicit=track.explicit,
            linked_uri=track.linked_from.uri if track.linked_from else None,
        )

    @property
    def uris(self) -> tuple[str, ...]:
        return (self.uri, self.linked_uri) if self.linked_uri else (self.uri,)


def approval_required(settings: RequestSettings, role: Role) -> bool:
    """Whether a request of ``role`` waits for a moderator's approval."""
    return settings.rules_for(role).approval_required


def check_viewer(
    settings: RequestSettings, viewer: ViewerFacts, queue: QueueFacts, now: datetime
) -> Refusal | None:
    """The rules that do not depend on the song: the cheap check before asking Spotify."""
    rules = settings.rules_for(viewer.role)
    if not settings.open and not rules.bypass_closed:
        return refuse(Reason.CLOSED, message=settings.closed_message or CLOSED_DEFAULT)
    if not rules.can_request:
        return refuse(Reason.NOT_ALLOWED)
    if viewer.banned:
        return refuse(Reason.BANNED)
    if rules.max_waiting is not None and viewer.waiting >= rules.max_waiting:
        return refuse(
            Reason.TOO_MANY_WAITING,
            waiting=plural(viewer.waiting, "song"),
            limit=rules.max_waiting,
        )
    cooling = _cooldown_left(rules, viewer.last_request_at, now)
    if cooling is not None:
        return refuse(Reason.COOLDOWN, wait=format_duration(cooling, round_up=True))
    if rules.max_queue_length is not None and queue.length >= rules.max_queue_length:
        return refuse(Reason.QUEUE_FULL, limit=plural(rules.max_queue_length, "song"))
    return None


def _cooldown_left(rules: RoleRules, last: datetime | None, now: datetime) -> int | None:
    """Milliseconds of cooldown left, if any (a last request "in the future", a clock
    moved back, waits one cooldown at most)."""
    if last is None or rules.cooldown_seconds == 0:
        return None
    cooldown = timedelta(seconds=rules.cooldown_seconds)
    left = min(cooldown, cooldown - (now - last))
    if left <= timedelta(0):
        return None
    return left // timedelta(milliseconds=1)


def check_track(
    settings: RequestSettings,
    viewer: ViewerFacts,
    queue: QueueFacts,
    track: TrackFacts,
    now: datetime,
    *,
    allowlist: frozenset[str] | None = None,
) -> Refusal | None:
    """The rules about the song itself. ``allowlist``: the uris of the allowlist
    playlist's songs, required when the settings name one."""
    rules = settings.rules_for(viewer.role)
    if rules.lists_apply:
        if any(uri in settings.blocked_tracks for uri in track.uris):
            return refuse(Reason.TRACK_BLOCKED)
        if any(uri in settings.blocked_artists for uri in track.artist_uris):
            return refuse(Reason.ARTIST_BLOCKED)
        if settings.allowlist_playlist is not None:
            if allowlist is None:
                raise ValueError("the allowlist playlist's songs are needed to check a song")
            if not any(uri in allowlist for uri in track.uris):
                return refuse(Reason.NOT_IN_ALLOWLIST)
    if track.explicit and not rules.explicit_allowed:
        return refuse(Reason.EXPLICIT)
    if rules.max_track_ms is not None and track.duration_ms > rules.max_track_ms:
        return refuse(
            Reason.TRACK_TOO_LONG,
            # Rounded up: a song a fraction over 7:00 reads 7:01, not "7:00, the limit 7:00".
            length=format_duration(track.duration_ms, round_up=True),
            limit=format_duration(rules.max_track_ms),
        )
    if not rules.duplicates_allowed:
        return _duplicate(settings, queue, track, now)
    return None


def _duplicate(
    settings: RequestSettings, queue: QueueFacts, track: TrackFacts, now: datetime
) -> Refusal | None:
    if any(uri in queue.waiting_uris for uri in track.uris):
        return refuse(Reason.ALREADY_QUEUED)
    window = timedelta(minutes=settings.duplicate_window_minutes)
    if not window:
        return None
    for uri in track.uris:
        played = queue.played_at.get(uri)
        if played is not None and now - played < window:
            return refuse(Reason.PLAYED_RECENTLY, window=_window(window))
    return None


def _window(window: timedelta) -> str:
    """ "30 minutes", "2 hours"; "hour", not "1 hour" ("played in the last hour")."""
    minutes = window // timedelta(minutes=1)
    count, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    return unit if count == 1 else plural(count, unit)


def check(
    settings: RequestSettings,
    viewer: ViewerFacts,
    queue: QueueFacts,
    track: TrackFacts,
    now: datetime,
    *,
    allowlist: frozenset[str] | None = None,
) -> Refusal | None:
    """Every rule, in the order a viewer is told about them: None when the request may
    be taken, else the first rule it breaks."""
    return check_viewer(settings, viewer, queue, now) or check_track(
        settings, viewer, queue, track, now, allowlist=allowlist
    )

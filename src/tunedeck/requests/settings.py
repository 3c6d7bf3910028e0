"""A channel's song request settings: open or closed, the rules of each role, and the
blocked songs and artists (validated pydantic models with sane defaults).

Per role (broadcaster, moderator, vip, subscriber, regular): whether it may request at
all, whether its requests wait for a moderator's approval, how many of one viewer's
requests may wait, the cooldown between one viewer's requests, the queue length past
which it may not add, the longest song, whether explicit songs are allowed, whether the
same song may be waiting or recently played, and whether the blocklists and the
allowlist playlist apply to it. By default the broadcaster and moderators have no
limits, VIPs and subscribers generous ones, regular viewers 2 waiting, a minute apart.

Numbers are whole, never negative (a clear message says which field and why); ``None``
means "no limit". Banned viewers are kept apart (a table of bans): the rule check is
told whether the viewer is banned.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from tunedeck.requests.text import clean
from tunedeck.requests.viewers import Role

DAY_SECONDS = 86_400
WEEK_MINUTES = 7 * 24 * 60
MAX_LISTED = 5000
"""The most songs, or artists, a blocklist holds."""


def _whole(low: int, high: int, unit: str) -> AfterValidator:
    """A whole number from ``low`` to ``high`` (``unit``: how to name the amounts)."""

    def amount(count: int) -> str:
        return f"{count} {unit.removesuffix('s')}" if count == 1 else f"{count} {unit}"

    def check(value: int) -> int:
        if value < 0:
            raise ValueError(f"must not be negative (got {value})")
        if value < low:
            raise ValueError(f"must be at least {amount(low)}, or null for no limit")
        if value > high:
            raise ValueError(f"must be at most {amount(high)} (got {value})")
        return value

    return AfterValidator(check)


Seconds = Annotated[StrictInt, _whole(0, DAY_SECONDS, "seconds")]
Minutes = Annotated[StrictInt, _whole(0, WEEK_MINUTES, "minutes")]
Milliseconds = Annotated[StrictInt, _whole(1000, DAY_SECONDS * 1000, "ms")]
PerViewer = Annotated[StrictInt, _whole(1, 1000, "requests")]
QueueLength = Annotated[StrictInt, _whole(1, 10_000, "songs")]

_TRACK_URI = re.compile(r"^spotify:track:[0-9A-Za-z]{22}$")
_ARTIST_URI = re.compile(r"^spotify:artist:[0-9A-Za-z]{22}$")
_PLAYLIST_ID = re.compile(r"^[0-9A-Za-z]{22}$")


def _uris(pattern: re.Pattern[str], kind: str) -> AfterValidator:
    def check(values: frozenset[str]) -> frozenset[str]:
        for value in sorted(values):
            if not pattern.match(value):
                raise ValueError(f"{value[:60]!r} is not a Spotify {kind} uri (spotify:{kind}:…)")
        return values

    return AfterValidator(check)


def _playlist(value: str | None) -> str | None:
    if value is not None and not _PLAYLIST_ID.match(value):
        raise ValueError("must be a Spotify playlist id (22 letters and digits)")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleRules(_Model):
    """What one role may do (the defaults are a regular viewer's)."""

    can_request: bool = True
    #: May request while requests are closed.
    bypass_closed: bool = False
    approval_required: bool = False
    max_waiting: PerViewer | None = 2
    cooldown_seconds: Seconds = 60
    #: The queue length (requests waiting) from which this role may not add.
    max_queue_length: QueueLength | None = 50
    max_track_ms: Milliseconds | None = 7 * 60_000
    explicit_allowed: bool = True
    #: May request a song already waiting, or played in the duplicate window.
    duplicates_allowed: bool = False
    #: The blocked songs and artists and the allowlist playlist apply.
    lists_apply: bool = True


UNLIMITED = RoleRules(
    bypass_closed=True,
    max_waiting=None,
    cooldown_seconds=0,
    max_queue_length=None,
    max_track_ms=None,
    duplicates_allowed=True,
)


class RoleSet(_Model):
    """The rules of each role."""

    broadcaster: RoleRules = UNLIMITED.model_copy(update={"lists_apply": False})
    moderator: RoleRules = UNLIMITED
    vip: RoleRules = RoleRules(
        max_waiting=4, cooldown_seconds=20, max_queue_length=100, max_track_ms=10 * 60_000
    )
    subscriber: RoleRules = RoleRules(max_waiting=3, cooldown_seconds=30, max_queue_length=75)
    regular: RoleRules = RoleRules()


class RequestSettings(_Model):
    """A channel's song request settings."""

    open: bool = True
    #: What viewers read while requests are closed ("requests are closed: …").
    closed_message: Annotated[str, AfterValidator(clean)] = Field(default="", max_length=200)
    #: A song played less than this long ago may not be requested again (0: no window).
    duplicate_window_minutes: Minutes = 30
    blocked_tracks: Annotated[
        frozenset[str], Field(max_length=MAX_LISTED), _uris(_TRACK_URI, "track")
    ] = frozenset()
    blocked_artists: Annotated[
        frozenset[str], Field(max_length=MAX_LISTED), _uris(_ARTIST_URI, "artist")
    ] = frozenset()
    #: Only songs of this playlist (its id) may be requested, when set.
    allowlist_playlist: Annotated[str | None, AfterValidator(_playlist)] = None
    roles: RoleSet = RoleSet()

    def rules_for(self, role: Role) -> RoleRules:
        """The rules of ``role``."""
        rules: RoleRules = getattr(self.roles, role.value)
        return rules


def settings_error(exc: ValidationError) -> str:
    """The first problem of a refused settings document, saying where: for a 400."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"

"""Exceptions raised by the Spotify client and the OAuth helpers.

Every failure is a :class:`SpotifyError` carrying the HTTP status, Spotify's message,
the player ``reason`` (``NO_ACTIVE_DEVICE``, ``PREMIUM_REQUIRED``, ...) and, for rate
limits, ``retry_after``. Messages never contain a token or a secret.
"""

from __future__ import annotations

# Reasons Spotify puts in ``error.reason`` of player errors (and QUOTA_EXCEEDED, which
# development-mode apps meet). Kept as constants so callers compare against names.
NO_PREV_TRACK = "NO_PREV_TRACK"
NO_NEXT_TRACK = "NO_NEXT_TRACK"
NO_SPECIFIC_TRACK = "NO_SPECIFIC_TRACK"
ALREADY_PAUSED = "ALREADY_PAUSED"
NOT_PAUSED = "NOT_PAUSED"
NOT_PLAYING_LOCALLY = "NOT_PLAYING_LOCALLY"
NOT_PLAYING_TRACK = "NOT_PLAYING_TRACK"
NOT_PLAYING_CONTEXT = "NOT_PLAYING_CONTEXT"
ENDLESS_CONTEXT = "ENDLESS_CONTEXT"
CONTEXT_DISALLOW = "CONTEXT_DISALLOW"
ALREADY_PLAYING = "ALREADY_PLAYING"
RATE_LIMITED = "RATE_LIMITED"
REMOTE_CONTROL_DISALLOW = "REMOTE_CONTROL_DISALLOW"
DEVICE_NOT_CONTROLLABLE = "DEVICE_NOT_CONTROLLABLE"
VOLUME_CONTROL_DISALLOW = "VOLUME_CONTROL_DISALLOW"
NO_ACTIVE_DEVICE = "NO_ACTIVE_DEVICE"
PREMIUM_REQUIRED = "PREMIUM_REQUIRED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
UNKNOWN = "UNKNOWN"

PLAYER_REASONS: frozenset[str] = frozenset(
    {
        NO_PREV_TRACK,
        NO_NEXT_TRACK,
        NO_SPECIFIC_TRACK,
        ALREADY_PAUSED,
        NOT_PAUSED,
        NOT_PLAYING_LOCALLY,
        NOT_PLAYING_TRACK,
        NOT_PLAYING_CONTEXT,
        ENDLESS_CONTEXT,
        CONTEXT_DISALLOW,
        ALREADY_PLAYING,
        RATE_LIMITED,
        REMOTE_CONTROL_DISALLOW,
        DEVICE_NOT_CONTROLLABLE,
        VOLUME_CONTROL_DISALLOW,
        NO_ACTIVE_DEVICE,
        PREMIUM_REQUIRED,
        QUOTA_EXCEEDED,
        UNKNOWN,
    }
)


class SpotifyError(Exception):
    """A Spotify call that did not succeed: HTTP status, message, player reason, retry hint."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"Spotify {self.status}: {self.message}"
        if self.reason:
            text += f" ({self.reason})"
        if self.retry_after is not None:
            text += f"; retry after {self.retry_after:g}s"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, "
            f"reason={self.reason!r}, retry_after={self.retry_after!r})"
        )


class SpotifyRateLimitError(SpotifyError):
    """429 whose ``Retry-After`` was longer than we are willing to wait in-line."""

    def __init__(self, message: str, *, retry_after: float, reason: str | None = None) -> None:
        super().__init__(429, message, reason=reason, retry_after=retry_after)


class SpotifyUnavailableError(SpotifyError):
    """Spotify could not be reached or kept failing: 5xx after retries, connection
    failure (status 503), or a timeout / exceeded deadline (status 504).

    ``upstream_status`` is the last HTTP status Spotify sent, when there was one.
    """

    def __init__(self, status: int, message: str, *, upstream_status: int | None = None) -> None:
        self.upstream_status = upstream_status
        super().__init__(status, message)


class SpotifyTokenError(SpotifyError):
    """The accounts service refused a token request (code exchange or refresh)."""

    def __init__(self, status: int, error: str, error_description: str | None = None) -> None:
        self.error = error
        self.error_description = error_description
        message = f"{error}: {error_description}" if error_description else error
        super().__init__(status, message)


class SpotifyInvalidGrantError(SpotifyTokenError):
    """The code or refresh token is invalid, used, revoked or expired: the user must
    authorize again (``needs_reauth``); retrying with the same grant cannot succeed."""

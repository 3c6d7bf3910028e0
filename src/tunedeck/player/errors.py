"""What a caller learns when Spotify says no: one mapping from the client's errors to ours.

Every Spotify answer becomes a :class:`TuneDeckError` with a stable code, the status a
client can act on, and Spotify's own message and reason; never a 500. The token
manager's errors (not connected, needs re-authorization) are TuneDeckErrors already
and pass through unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from tunedeck.kit.errors import ErrorDetails, TuneDeckError
from tunedeck.spotify.errors import (
    NO_ACTIVE_DEVICE,
    PREMIUM_REQUIRED,
    SpotifyError,
    SpotifyInvalidGrantError,
    SpotifyRateLimitError,
    SpotifyTokenError,
    SpotifyUnavailableError,
)

NO_DEVICE_HINT = (
    "start Spotify on a device, or pick one of the available devices "
    "(POST /v1/spotify/devices or the spotifyTransferPlayback mutation)"
)

# Player reasons that describe the player's state rather than a malformed request:
# "already paused", "nothing next"... The caller may retry once the state changes.
_STATE_STATUSES = frozenset({403, 409})

# Spotify refusals that are about what was asked, not about how: the input was checked
# before asking, so Spotify's 400 means an unknown track, playlist or context, or a
# change the object does not allow (409, like its own conflicts).
_REFUSED_STATUSES = frozenset({400, 409})


def _details(exc: SpotifyError, **extra: Any) -> ErrorDetails:
    return ErrorDetails(spotify_status=exc.status, spotify_reason=exc.reason, **extra)


def map_spotify_error(exc: Exception) -> TuneDeckError:
    """The answer to give for ``exc``, raised while talking to Spotify.

    - ``NO_ACTIVE_DEVICE`` -> 409 ``no_active_device``, with a hint to pick a device;
    - ``PREMIUM_REQUIRED`` -> 403 ``premium_required``;
    - rate limited -> 429 ``rate_limited`` with ``Retry-After`` (whole seconds);
    - refresh token refused -> 409 ``spotify_needs_reauth``;
    - Spotify down -> 503 ``spotify_unavailable``; too slow -> 504 ``spotify_timeout``;
    - a player refusal (already paused, nothing next, device not controllable) -> 409
      ``player_refused`` with the reason;
    - other refusals: 404 ``spotify_not_found``, 403 ``spotify_forbidden``, and 400 or 409
      -> 409 ``spotify_refused`` (the input's form was checked before asking: what
      Spotify refuses is its content), with Spotify's message; anything else (an
      unreadable answer) -> 502 ``spotify_error``.
    """
    if isinstance(exc, TuneDeckError):
        return exc
    if isinstance(exc, httpx.TimeoutException):
        return TuneDeckError("Spotify did not answer in time.", code="spotify_timeout", status=504)
    if isinstance(exc, httpx.HTTPError):
        return TuneDeckError(
            "Spotify could not be reached.", code="spotify_unavailable", status=503
        )
    if not isinstance(exc, SpotifyError):
        raise TypeError(f"not a Spotify failure: {exc!r}") from exc
    return _map(exc)


def _map(exc: SpotifyError) -> TuneDeckError:
    if isinstance(exc, SpotifyRateLimitError):
        retry_after = max(1, math.ceil(exc.retry_after or 1))
        return TuneDeckError(
            f"Spotify is rate limiting this app: retry after {retry_after} s.",
            code="rate_limited",
            status=429,
            headers={"Retry-After": str(retry_after)},
            details=_details(exc, retry_after=retry_after),
        )
    if isinstance(exc, SpotifyUnavailableError):
        if exc.status == 504:
            return TuneDeckError(
                f"Spotify did not answer in time: {exc.message}",
                code="spotify_timeout",
                status=504,
            )
        return TuneDeckError(
            f"Spotify is unavailable: {exc.message}",
            code="spotify_unavailable",
            status=503,
            details=ErrorDetails(spotify_status=exc.upstream_status)
            if exc.upstream_status
            else None,
        )
    if isinstance(exc, SpotifyInvalidGrantError):
        return TuneDeckError(
            "Spotify no longer accepts this account's authorization: connect Spotify again.",
            code="spotify_needs_reauth",
            status=409,
        )
    if isinstance(exc, SpotifyTokenError):
        return TuneDeckError(
            f"Spotify refused the token request: {exc.message}",
            code="spotify_auth_failed",
            status=502,
        )
    if exc.reason == NO_ACTIVE_DEVICE:
        return TuneDeckError(
            f"No active Spotify device ({NO_ACTIVE_DEVICE}): {NO_DEVICE_HINT}.",
            code="no_active_device",
            status=409,
            details=_details(exc, hint=NO_DEVICE_HINT),
        )
    if exc.reason == PREMIUM_REQUIRED:
        return TuneDeckError(
            f"Spotify Premium is required to control playback ({PREMIUM_REQUIRED}).",
            code="premium_required",
            status=403,
            details=_details(exc),
        )
    if exc.reason and exc.status in _STATE_STATUSES:
        return TuneDeckError(
            f"Spotify refused the command ({exc.reason}): {exc.message}",
            code="player_refused",
            status=409,
            details=_details(exc),
        )
    if exc.status == 404:
        return TuneDeckError(
            f"Spotify: {exc.message}", code="spotify_not_found", status=404, details=_details(exc)
        )
    if exc.status in _REFUSED_STATUSES:
        return TuneDeckError(
            f"Spotify refused the request: {exc.message}",
            code="spotify_refused",
            status=409,
            details=_details(exc),
        )
    if exc.status == 403:
        # No player reason: e.g. a scope the connection lacks, or a playlist not ours.
        return TuneDeckError(
            f"Spotify refused the request: {exc.message}",
            code="spotify_forbidden",
            status=403,
            details=_details(exc),
        )
    return TuneDeckError(
        f"Unexpected answer from Spotify: {exc.message}",
        code="spotify_error",
        status=502,
        details=_details(exc),
    )

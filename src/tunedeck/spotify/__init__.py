"""Spotify Web API client, its models and errors, and the OAuth helpers."""

from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import (
    SpotifyError,
    SpotifyInvalidGrantError,
    SpotifyRateLimitError,
    SpotifyTokenError,
    SpotifyUnavailableError,
)
from tunedeck.spotify.oauth import SCOPES, SpotifyOAuth, TokenGrant, new_pkce_pair, new_state
from tunedeck.spotify.transport import RequestPolicy, TokenProvider

__all__ = [
    "SCOPES",
    "RequestPolicy",
    "SpotifyClient",
    "SpotifyError",
    "SpotifyInvalidGrantError",
    "SpotifyOAuth",
    "SpotifyRateLimitError",
    "SpotifyTokenError",
    "SpotifyUnavailableError",
    "TokenGrant",
    "TokenProvider",
    "new_pkce_pair",
    "new_state",
]

"""Errors of the connections domain: what a caller learns when Spotify cannot be used."""

from __future__ import annotations

from tunedeck.kit.errors import BadRequest, Conflict, ServiceUnavailable


class SpotifyNotConnected(Conflict):
    """The account has no Spotify app credentials or no Spotify connection (409)."""

    code = "spotify_not_connected"


class SpotifyNeedsReauth(Conflict):
    """Spotify refused the stored refresh token: the streamer must connect again (409)."""

    code = "spotify_needs_reauth"

    def __init__(
        self,
        message: str = (
            "Spotify no longer accepts TuneDeck's connection to this account (revoked or "
            "expired): connect Spotify again"
        ),
    ) -> None:
        super().__init__(message)


class SpotifyAppRejected(Conflict):
    """Spotify refused the account's app credentials (wrong client id or secret) (409)."""

    code = "spotify_app_rejected"


class SpotifyUserNotRegistered(Conflict):
    """The Spotify user is not on the list of users of the account's app, which Spotify
    keeps for apps in development mode (409)."""

    code = "spotify_user_not_registered"


class OAuthCallbackError(BadRequest):
    """A callback that cannot connect anything: denied, unknown, used or expired state (400)."""

    code = "oauth_callback_invalid"


class SpotifyAuthUnavailable(ServiceUnavailable):
    """Spotify's accounts service failed while connecting (503)."""

    code = "spotify_unavailable"

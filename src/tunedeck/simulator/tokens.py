"""Authorization codes, access tokens and refresh tokens, and their lifecycles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

#: Every scope the Web API knows; minted tokens get all of them unless told otherwise.
ALL_SCOPES = (
    "ugc-image-upload",
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "app-remote-control",
    "streaming",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
    "user-follow-modify",
    "user-follow-read",
    "user-read-playback-position",
    "user-top-read",
    "user-read-recently-played",
    "user-library-modify",
    "user-library-read",
    "user-read-email",
    "user-read-private",
)

#: How long an authorization code may wait before being exchanged, seconds.
CODE_TTL_SECONDS = 600


@dataclass
class AuthCode:
    """A one-time code from /authorize, waiting to be exchanged at /api/token."""

    code: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expires_at: float


@dataclass
class AccessToken:
    """A bearer token for the Web API."""

    token: str
    user_id: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshToken:
    """A refresh token; PKCE ones are single use (``used`` once rotated)."""

    token: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    pkce: bool
    revoked: bool = False
    used: bool = False


class TokenRefused(Exception):  # noqa: N818 - a refusal, not a crash
    """A grant the token endpoint refuses: OAuth ``error`` and ``error_description``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class TokenStore:
    """Issued codes and tokens, looked up by their string."""

    def __init__(self) -> None:
        self.codes: dict[str, AuthCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    def issue_code(self, code: AuthCode) -> None:
        self.codes[code.code] = code

    def take_code(self, code: str, now: float) -> AuthCode:
        """Consume an authorization code (single use)."""
        found = self.codes.pop(code, None)
        if found is None or found.expires_at < now:
            raise TokenRefused("invalid_grant", "Invalid authorization code")
        return found

    def issue(
        self,
        *,
        user_id: str,
        client_id: str,
        scopes: tuple[str, ...],
        pkce: bool,
        ttl: float,
        now: float,
    ) -> tuple[AccessToken, RefreshToken]:
        """A new access token and a new refresh token."""
        refresh = RefreshToken(
            token=secrets.token_urlsafe(48),
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
            pkce=pkce,
        )
        self.refresh[refresh.token] = refresh
        return self.new_access(user_id, client_id, scopes, ttl, now), refresh

    def new_access(
        self, user_id: str, client_id: str, scopes: tuple[str, ...], ttl: float, now: float
    ) -> AccessToken:
        access = AccessToken(
            token=secrets.token_urlsafe(64),
            user_id=user_id,
            client_id=client_id,
            scopes=frozenset(scopes),
            expires_at=now + ttl,
        )
        self.access[access.token] = access
        return access

    def use_refresh(self, token: str, client_id: str) -> RefreshToken:
        """Check a refresh token presented by ``client_id``; rotation is the caller's job."""
        found = self.refresh.get(token)
        if found is None or found.client_id != client_id:
            raise TokenRefused("invalid_grant", "Invalid refresh token")
        if found.revoked:
            raise TokenRefused("invalid_grant", "Refresh token revoked")
        if found.used:
            raise TokenRefused("invalid_grant", "Invalid refresh token")
        return found

    def expire(self, *, access_token: str | None, user_id: str | None, now: float) -> int:
        """Make the named access token, or all of a user's, expired now; returns how many."""
        count = 0
        for token in self.access.values():
            if token.token == access_token or (user_id is not None and token.user_id == user_id):
                token.expires_at = min(token.expires_at, now - 1)
                count += 1
        return count

    def revoke(self, *, refresh_token: str | None, user_id: str | None) -> int:
        """Revoke the named refresh token, or all of a user's; returns how many."""
        count = 0
        for token in self.refresh.values():
            if token.token == refresh_token or (user_id is not None and token.user_id == user_id):
                token.revoked = True
                count += 1
        return count

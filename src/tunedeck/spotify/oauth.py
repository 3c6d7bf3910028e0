"""Spotify's OAuth authorization-code flow: authorize URL, code exchange, refresh.

The secret and the tokens never appear in an exception message, a repr or a log line.
Token requests are not retried: a PKCE refresh token is single use, and a retry after
an ambiguous failure could spend it twice.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from tunedeck.config import SPOTIFY_ACCOUNTS_URL
from tunedeck.spotify.errors import (
    SpotifyInvalidGrantError,
    SpotifyRateLimitError,
    SpotifyTokenError,
    SpotifyUnavailableError,
)

logger = logging.getLogger(__name__)

SCOPES: tuple[str, ...] = (
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-public",
    "playlist-modify-private",
    "user-read-private",
    # DELETE /me/library (deleting = unfollowing a playlist) asks for it.
    "user-library-modify",
)
"""The scopes TuneDeck asks for: playback, queue, devices, playlists, profile, library."""

TOKEN_TIMEOUT = 10.0
"""Seconds one token request may take."""


def new_state() -> str:
    """A fresh, unguessable ``state`` value for one authorization (CSRF protection)."""
    return secrets.token_urlsafe(32)


def new_pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (86 URL-safe characters) and its S256 code challenge."""
    verifier = secrets.token_urlsafe(64)
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_redirect_uri(uri: str) -> None:
    """Raise ValueError unless Spotify accepts ``uri`` as a redirect URI: https, or
    http only on a loopback literal (127.0.0.1, [::1]); never ``localhost``."""
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise ValueError("redirect URI must be https, or http on 127.0.0.1 / [::1]")


@dataclass(frozen=True)
class TokenGrant:
    """Tokens from the accounts service. ``refresh_token`` is the one to store from now
    on: the new one when Spotify rotated it (``rotated``), else the one just used."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str = field(repr=False)
    rotated: bool = False

    def expires_at(self, now: datetime) -> datetime:
        """When the access token expires, counted from ``now`` (when it was received)."""
        return now + timedelta(seconds=self.expires_in)

    @property
    def scopes(self) -> frozenset[str]:
        """The granted scopes as a set."""
        return frozenset(self.scope.split())


class SpotifyOAuth:
    """The accounts-service side of one Spotify app: authorize, exchange, refresh."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str | None = None,
        redirect_uri: str,
        accounts_url: str = SPOTIFY_ACCOUNTS_URL,
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._accounts_url = accounts_url.rstrip("/")

    def __repr__(self) -> str:
        return (
            f"SpotifyOAuth(client_id={self._client_id!r}, redirect_uri={self._redirect_uri!r}, "
            f"accounts_url={self._accounts_url!r})"
        )

    @property
    def client_id(self) -> str:
        """The app's client id."""
        return self._client_id

    @property
    def redirect_uri(self) -> str:
        """Where Spotify sends the user back with the code."""
        return self._redirect_uri

    def authorize_url(
        self,
        *,
        state: str,
        scopes: Iterable[str] = SCOPES,
        code_challenge: str | None = None,
        show_dialog: bool = False,
    ) -> str:
        """The URL to send the user to; with ``code_challenge`` it starts a PKCE (S256) flow."""
        query = {
            "client_id": self._client_id,
            "response_type": "code",
            "redirect_uri": self._redirect_uri,
            "state": state,
            "scope": " ".join(scopes),
        }
        if code_challenge is not None:
            query["code_challenge_method"] = "S256"
            query["code_challenge"] = code_challenge
        if show_dialog:
            query["show_dialog"] = "true"
        return f"{self._accounts_url}/authorize?{urlencode(query)}"

    async def exchange_code(self, code: str, *, code_verifier: str | None = None) -> TokenGrant:
        """Trade the authorization code for tokens (Basic auth when the app has a secret,
        else the PKCE form with ``client_id`` and ``code_verifier``)."""
        if self._client_secret is None and code_verifier is None:
            raise ValueError("code_verifier is required without a client secret")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._redirect_uri,
        }
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        data = await self._token_request(form)
        refresh_token = data.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise SpotifyTokenError(502, "invalid_response", "no refresh token in the answer")
        return _grant(data, refresh_token=refresh_token, rotated=False)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token. Keeps ``refresh_token`` when Spotify sends none back; when
        it sends a different one, returns that with ``rotated=True`` (store it: the old
        one may be dead, PKCE refresh tokens are single use)."""
        data = await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        new = data.get("refresh_token")
        if isinstance(new, str) and new and new != refresh_token:
            logger.info("Spotify rotated the refresh token for app %s", self._client_id)
            return _grant(data, refresh_token=new, rotated=True)
        return _grant(data, refresh_token=refresh_token, rotated=False)

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self._client_secret is not None:
            credentials = f"{self._client_id}:{self._client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        else:
            form = {**form, "client_id": self._client_id}
        url = f"{self._accounts_url}/api/token"
        try:
            response = await self._http.post(url, data=form, headers=headers, timeout=TOKEN_TIMEOUT)
        except httpx.TimeoutException as exc:
            raise SpotifyUnavailableError(504, "Spotify token endpoint timed out") from exc
        except httpx.TransportError as exc:
            raise SpotifyUnavailableError(
                503, f"Spotify token endpoint unreachable: {type(exc).__name__}"
            ) from exc
        data = _json_object(response)
        if response.is_success:
            if not isinstance(data.get("access_token"), str):
                raise SpotifyTokenError(502, "invalid_response", "no access token in the answer")
            return data
        raise _token_error(response, data)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _token_error(
    response: httpx.Response, data: dict[str, Any]
) -> SpotifyTokenError | SpotifyRateLimitError | SpotifyUnavailableError:
    status = response.status_code
    if status == 429:
        try:
            retry_after = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            retry_after = 1.0
        return SpotifyRateLimitError("token endpoint rate limited", retry_after=retry_after)
    if status >= 500:
        return SpotifyUnavailableError(503, "Spotify token endpoint failed", upstream_status=status)
    error = data.get("error")
    description = data.get("error_description")
    if isinstance(error, dict):  # Web API style body, seen on some proxies
        description = error.get("message")
        error = None
    error_name = error if isinstance(error, str) and error else f"http_{status}"
    text = description if isinstance(description, str) and description else None
    if error_name == "invalid_grant":
        return SpotifyInvalidGrantError(status, error_name, text)
    return SpotifyTokenError(status, error_name, text)


def _grant(data: dict[str, Any], *, refresh_token: str, rotated: bool) -> TokenGrant:
    try:
        expires_in = int(data.get("expires_in", 3600))
    except (TypeError, ValueError):
        expires_in = 3600
    scope = data.get("scope")
    token_type = data.get("token_type")
    return TokenGrant(
        access_token=str(data["access_token"]),
        token_type=token_type if isinstance(token_type, str) else "Bearer",
        expires_in=expires_in,
        scope=scope if isinstance(scope, str) else "",
        refresh_token=refresh_token,
        rotated=rotated,
    )

"""Connecting Spotify: the OAuth authorization-code flow with ``state`` and PKCE (S256).

``start`` (an admin's call) records a pending authorization (state, encrypted PKCE
verifier, 10 minutes, bound to the caller's account) in its unit of work and returns
the accounts-service URL.

``finish`` handles the callback in its own units of work: the state is burned in a
committed transaction *before* the code exchange, so a state is single use even when the
exchange fails or two callbacks race; the tokens are stored in a second one, only once
Spotify has answered. Any refusal raises before anything is stored.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from tunedeck.accounts import service as accounts
from tunedeck.accounts.context import CallContext, authorize
from tunedeck.accounts.permissions import Permission
from tunedeck.config import Settings
from tunedeck.connections import repository as repo
from tunedeck.connections import service
from tunedeck.connections.errors import (
    OAuthCallbackError,
    SpotifyAppRejected,
    SpotifyAuthUnavailable,
    SpotifyUserNotRegistered,
)
from tunedeck.connections.schemas import ConnectionOut
from tunedeck.connections.token_manager import not_connected, redirect_uri_for
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.errors import Conflict, TuneDeckError, Unauthorized, ValidationFailed
from tunedeck.spotify.client import SpotifyClient
from tunedeck.spotify.errors import SpotifyError, SpotifyInvalidGrantError, SpotifyTokenError
from tunedeck.spotify.models import User
from tunedeck.spotify.oauth import (
    SCOPES,
    SpotifyOAuth,
    TokenGrant,
    check_redirect_uri,
    new_pkce_pair,
    new_state,
)

STATE_TTL = timedelta(minutes=10)
NOT_REGISTERED = "not registered"
"""In the 403 Spotify answers a user missing from a development-mode app's users."""
MAX_STATE_CHARS = 128
# What a state can be (ours are URL-safe base64): anything else was never one of ours,
# and is not looked up (PostgreSQL refuses text with NUL).
STATE = rf"^[\x21-\x7e]{{1,{MAX_STATE_CHARS}}}$"
# A path of our own UI: "/..." but not "//host" nor "/\host" (browsers read both as hosts),
# visible ASCII (percent-encode the rest), no backslash; "" means none. Stated as is in
# the description: no look-arounds, no \s (every regex dialect reads it the same way).
RETURN_TO = r"^(/([!-.0-\[\]-~][!-\[\]-~]{0,498})?)?$"


@dataclass(frozen=True, slots=True)
class Started:
    authorize_url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Finished:
    account_id: uuid.UUID
    return_to: str
    connection: ConnectionOut
    """The account's connection as stored by this callback."""


class ConnectionFailed(Exception):  # noqa: N818 (it wraps the error)
    """A callback whose authorization was claimed but which connected nothing: the
    ``error`` says why; ``return_to`` is where the flow started (to show it there)."""

    def __init__(self, error: TuneDeckError, return_to: str | None) -> None:
        super().__init__(error.message)
        self.error = error
        self.return_to = return_to


def _check_return_to(return_to: str | None) -> str | None:
    if return_to is None or return_to == "":
        return None
    if not re.fullmatch(RETURN_TO, return_to):
        raise ValidationFailed(
            "return_to must be a path of this site, like /dashboard", code="invalid_return_to"
        )
    return return_to


async def start(
    ctx: CallContext,
    keyring: Keyring,
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    return_to: str | None = None,
) -> Started:
    """Record a pending authorization of the caller's account (admin) and return where
    to send the streamer's browser."""
    account_id = authorize(ctx, Permission.ADMIN)
    return_to = _check_return_to(return_to)
    async with ctx.begin() as work:
        session = work.session
        app = await repo.app_credentials(session, keyring, account_id)
        if app is None:
            raise not_connected("no Spotify app credentials")
        redirect_uri = redirect_uri_for(settings)
        try:
            check_redirect_uri(redirect_uri)
        except ValueError:
            raise Conflict(
                f"Spotify refuses the redirect URI {redirect_uri}: set TUNEDECK_PUBLIC_URL to an "
                "https URL, or http on 127.0.0.1 / [::1]",
                code="invalid_public_url",
            ) from None
        state = new_state()
        verifier, challenge = new_pkce_pair()
        now = utcnow()
        await repo.delete_stale_authorizations(session, account_id, now)
        await repo.add_pending_authorization(
            session,
            keyring,
            account_id,
            state=state,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            return_to=return_to,
            expires_at=now + STATE_TTL,
        )
    oauth = SpotifyOAuth(
        http,
        client_id=app.client_id,
        redirect_uri=redirect_uri,
        accounts_url=settings.spotify_accounts_url,
    )
    url = oauth.authorize_url(state=state, scopes=SCOPES, code_challenge=challenge)
    return Started(authorize_url=url, expires_at=now + STATE_TTL)


async def _caller_account(db: Database, secret: str | None) -> uuid.UUID | None:
    """The account of the credentials a callback came with, if any valid ones."""
    if secret is None:
        return None
    try:
        async with db.session() as session:
            return (await accounts.authenticate(session, secret)).account_id
    except Unauthorized:
        # A stale cookie must not stop a connection the state alone authorizes.
        return None


async def finish(
    db: Database,
    keyring: Keyring,
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    credential: str | None = None,
) -> Finished:
    """Check the state, exchange the code, read the Spotify user, store the tokens.

    ``credential`` is what the browser came with, if anything (a dashboard cookie): when
    it stands for an account, the state must have been started by that account.
    """
    state = _valid_state(state)
    caller = await _caller_account(db, credential)
    pending, app = await _claim_state(db, keyring, state, caller=caller)
    try:
        code = _granted_code(error, code)
        if app is None:
            raise not_connected("no Spotify app credentials")
        grant, received_at = await _exchange_code(http, settings, app, pending, code)
        user = await _read_spotify_user(http, settings, grant.access_token)
        connection = await _store_connection(
            db, keyring, pending.account_id, grant, received_at=received_at, user=user
        )
    except TuneDeckError as exc:
        raise ConnectionFailed(exc, pending.return_to) from None
    return Finished(
        account_id=pending.account_id,
        return_to=pending.return_to or "/",
        connection=connection,
    )


def _valid_state(state: str | None) -> str:
    """The callback's state, if it can be one of ours (anything else is not looked up)."""
    if state is None or not re.fullmatch(STATE, state):
        raise OAuthCallbackError("The callback has no valid state: start connecting again.")
    return state


async def _claim_state(
    db: Database, keyring: Keyring, state: str, *, caller: uuid.UUID | None
) -> tuple[repo.PendingAuthorization, repo.AppSecrets | None]:
    """Burn the state in a committed transaction of its own, before Spotify is asked
    anything: single use even when the exchange fails or two callbacks race. Returns the
    pending authorization and its account's app, read in the same transaction.

    Refuses a state that is unknown, started by another account than the ``caller``'s,
    already used or expired.
    """
    now = utcnow()
    async with db.session() as session:
        pending = await repo.pending_authorization(session, keyring, state)
        if pending is None:
            raise OAuthCallbackError(
                "Unknown authorization state: start connecting again.", code="oauth_state_unknown"
            )
        if caller is not None and caller != pending.account_id:
            raise OAuthCallbackError(
                "This authorization was started by another account.",
                code="oauth_state_other_account",
            )
        claimed = await repo.claim_pending_authorization(session, pending, now)
        app = await repo.app_credentials(session, keyring, pending.account_id)
    if not claimed:
        raise _unclaimable(pending, now)
    return pending, app


def _unclaimable(pending: repo.PendingAuthorization, now: datetime) -> OAuthCallbackError:
    """Why a known state could not be claimed: used (maybe by a concurrent callback just
    now, when it has not expired yet) or expired."""
    if pending.used_at is not None or pending.expires_at > now:
        return OAuthCallbackError(
            "This authorization was already used: start connecting again.",
            code="oauth_state_used",
        )
    return OAuthCallbackError(
        "This authorization expired (10 minutes): start connecting again.",
        code="oauth_state_expired",
    )


def _granted_code(error: str | None, code: str | None) -> str:
    """The authorization code, unless the streamer (or Spotify) said no or none came."""
    if error is not None:
        denied = error == "access_denied"
        raise OAuthCallbackError(
            "Spotify access was denied: nothing was connected."
            if denied
            else f"Spotify did not authorize: {error[:100]}",
            code="oauth_access_denied" if denied else "oauth_refused",
        )
    if not code:
        raise OAuthCallbackError("The callback has no authorization code: start again.")
    return code


async def _exchange_code(
    http: httpx.AsyncClient,
    settings: Settings,
    app: repo.AppSecrets,
    pending: repo.PendingAuthorization,
    code: str,
) -> tuple[TokenGrant, datetime]:
    """Trade the code (with the state's PKCE verifier) for tokens; returns them and when
    they were received, which their lifetime counts from."""
    oauth = SpotifyOAuth(
        http,
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=pending.redirect_uri,
        accounts_url=settings.spotify_accounts_url,
    )
    try:
        grant = await oauth.exchange_code(code, code_verifier=pending.code_verifier)
    except SpotifyError as exc:
        raise _connection_failure(exc) from None
    return grant, utcnow()


async def _read_spotify_user(
    http: httpx.AsyncClient, settings: Settings, access_token: str
) -> User:
    """Who granted the tokens: the Spotify user the connection is recorded for."""
    client = SpotifyClient(http, _StaticToken(access_token), api_url=settings.spotify_api_url)
    try:
        return await client.current_user()
    except SpotifyError as exc:
        raise _connection_failure(exc) from None


def _connection_failure(exc: SpotifyError) -> TuneDeckError:
    """What the caller is told when Spotify fails the connection; nothing Spotify said
    beyond the error's name or status (never a token, nor the secret)."""
    if isinstance(exc, SpotifyInvalidGrantError):
        return OAuthCallbackError(
            "Spotify refused the authorization code (expired or already used): start again.",
            code="oauth_code_refused",
        )
    if isinstance(exc, SpotifyTokenError):
        return SpotifyAppRejected(
            f"Spotify refused your app's client secret ({exc.error}): copy the client ID "
            "and secret again from the app's settings on Spotify's developer dashboard"
        )
    if exc.status == 403 and NOT_REGISTERED in exc.message.lower():
        return SpotifyUserNotRegistered(
            "Spotify says this Spotify account is not allowed to use your app: add it "
            "under User Management in the app's settings on Spotify's developer dashboard"
        )
    return SpotifyAuthUnavailable(
        f"Spotify did not complete the connection ({exc.status}): try again."
    )


async def _store_connection(
    db: Database,
    keyring: Keyring,
    account_id: uuid.UUID,
    grant: TokenGrant,
    *,
    received_at: datetime,
    user: User,
) -> ConnectionOut:
    """Store the tokens (sealed) as the account's connection, in a transaction of its own
    once Spotify has answered; returns the connection as stored."""
    async with db.session() as session:
        await repo.save_connection(
            session,
            keyring,
            account_id,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            expires_at=grant.expires_at(received_at),
            scopes=grant.scope,
            spotify_user_id=user.id,
        )
        return await service.connection_of(session, keyring, account_id)


class _StaticToken:
    """The token provider for the one call made with a just-received token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "_StaticToken()"

    async def __call__(self, *, force_refresh: bool = False) -> str:
        return self._token

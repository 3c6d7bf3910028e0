"""The token manager: an account id in, a Spotify client with a fresh token out.

Refreshing is single flight. In one process, concurrent callers for one account share
one in-flight refresh (``kit.single_flight``). Across processes, the refresh runs
inside a transaction holding the connection row's lock (SELECT ... FOR UPDATE on
PostgreSQL; SQLite lets one writer at a time anyway) and re-reads the row first:
whoever gets the lock second finds the new token and does not call Spotify again. The
outcome is committed at once, in the manager's own short transaction, never in a
request's session.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tunedeck.config import Settings
from tunedeck.connections import repository as repo
from tunedeck.connections.errors import (
    SpotifyAppRejected,
    SpotifyNeedsReauth,
    SpotifyNotConnected,
)
from tunedeck.connections.models import ConnectionStatus
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.single_flight import SingleFlight
from tunedeck.spotify.client import RequestPolicy, SpotifyClient
from tunedeck.spotify.errors import SpotifyInvalidGrantError, SpotifyTokenError
from tunedeck.spotify.oauth import SpotifyOAuth
from tunedeck.spotify.quirks import QuirksRegistry

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
"""A token expiring sooner than this is refreshed before use."""

CALLBACK_PATH = "/v1/connections/spotify/callback"


def redirect_uri_for(settings: Settings) -> str:
    """The redirect URI registered with Spotify: the callback under the public URL."""
    return settings.public_url.rstrip("/") + CALLBACK_PATH


def request_policy(settings: Settings) -> RequestPolicy:
    """How patient the API's Spotify clients are, from the settings."""
    return RequestPolicy(
        rate_limit_wait_cap=settings.spotify_rate_limit_wait_cap,
        deadline=settings.spotify_deadline,
    )


def not_connected(what: str) -> SpotifyNotConnected:
    return SpotifyNotConnected(
        f"Spotify is not connected to TuneDeck yet ({what}): an admin connects it on the "
        "dashboard's Connection tab, or on the setup page"
    )


@dataclass(slots=True)
class _Token:
    value: str = field(repr=False)
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return self.expires_at - now > REFRESH_MARGIN


class TokenManager:
    """Spotify clients for accounts, with tokens refreshed before they expire.

    Built once per process (``tunedeck.runtime.Runtime.token_manager``); safe for
    concurrent use. It owns the app's :class:`QuirksRegistry` (``quirks``): what its
    clients learn about a Spotify app's restrictions is shared by its clients of that
    app, and by no other TuneDeck app in the process. Its clients follow ``policy``
    (:func:`request_policy` of the settings unless given). With ``metrics``, its clients'
    Spotify requests and its refreshes (by outcome) are counted there.
    """

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        policy: RequestPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._keyring = keyring
        self._http = http
        self._settings = settings
        self._policy = policy or request_policy(settings)
        self.quirks = QuirksRegistry()
        self._refreshes: SingleFlight[uuid.UUID, _Token] = SingleFlight()
        # One refresh at a time per account in this process (the SQLite guarantee; on
        # PostgreSQL the row lock also holds other processes back).
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"TokenManager(db={self._db!r})"

    async def client_for(self, account_id: uuid.UUID) -> SpotifyClient:
        """A Spotify client acting for the account's connected user.

        Raises ``SpotifyNotConnected`` (no app credentials or no connection) or
        ``SpotifyNeedsReauth`` (Spotify refused the refresh token; connect again).
        """
        async with self._db.session() as session:
            grant = await repo.client_grant(session, self._keyring, account_id)
        if grant.client_id is None:
            raise not_connected("no Spotify app credentials")
        stored = grant.token
        if stored is None:
            raise not_connected("no Spotify authorization")
        if stored.status == ConnectionStatus.NEEDS_REAUTH:
            raise SpotifyNeedsReauth()
        if stored.status != ConnectionStatus.ACTIVE:
            raise not_connected(f"connection is {stored.status}")
        provider = _AccountTokens(self, account_id, _Token(stored.access_token, stored.expires_at))
        return SpotifyClient(
            self._http,
            provider,
            api_url=self._settings.spotify_api_url,
            app_id=grant.client_id,
            policy=self._policy,
            quirks=self.quirks,
            metrics=self._metrics,
        )

    async def fresh_token(
        self, account_id: uuid.UUID, *, seen: str | None = None, force: bool = False
    ) -> _Token:
        """A token valid for more than the margin. ``seen`` is the token the caller holds;
        with ``force`` it was refused, so only a different (newer) token will do."""
        token = await self._join(account_id, seen, force)
        if force and token.value == seen:
            # The shared refresh we joined was someone else's and found the very token
            # Spotify just refused still "fresh": now refresh for this caller.
            token = await self._join(account_id, seen, force)
        return token

    async def _join(self, account_id: uuid.UUID, seen: str | None, force: bool) -> _Token:
        # A caller giving up (its deadline) does not cancel everyone's refresh.
        return await self._refreshes.run(account_id, lambda: self._refresh(account_id, seen, force))

    async def _refresh(self, account_id: uuid.UUID, seen: str | None, force: bool) -> _Token:
        lock = self._locks.setdefault(account_id, asyncio.Lock())
        async with lock:
            async with self._db.session() as session:
                stored = await repo.connection(session, self._keyring, account_id, lock=True)
                if stored is None:
                    raise not_connected("no Spotify authorization")
                if stored.status == ConnectionStatus.NEEDS_REAUTH:
                    raise SpotifyNeedsReauth()
                current = _Token(stored.access_token, stored.expires_at)
                newer = seen is not None and stored.access_token != seen
                if current.fresh(utcnow()) and (newer or not force):
                    # Someone (maybe another process) refreshed while we waited.
                    self._count("already_fresh")
                    return current
                app = await repo.app_credentials(session, self._keyring, account_id)
                if app is None:
                    raise not_connected("no Spotify app credentials")
                outcome = (
                    None
                    if stored.refresh_token is None
                    else await self._call_spotify(session, app, stored)
                )
            if outcome is not None:
                return outcome
            return await self._after_invalid_grant(account_id, stored)

    async def _call_spotify(
        self, session: AsyncSession, app: repo.AppSecrets, stored: repo.StoredConnection
    ) -> _Token | None:
        """Refresh at Spotify and store the outcome in ``session`` (committed by the caller).
        None when Spotify refused the refresh token (invalid_grant)."""
        assert stored.refresh_token is not None
        oauth = SpotifyOAuth(
            self._http,
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=redirect_uri_for(self._settings),
            accounts_url=self._settings.spotify_accounts_url,
        )
        account_id = stored.account_id
        try:
            grant = await oauth.refresh(stored.refresh_token)
        except SpotifyInvalidGrantError as exc:
            self._count("invalid_grant")
            logger.warning(
                "Spotify refused the refresh token of account %s: %s",
                account_id,
                exc,
                extra=_refresh_event(account_id, "invalid_grant"),
            )
            return None
        except SpotifyTokenError as exc:
            self._count("app_rejected")
            logger.error(
                "Spotify refused the app of account %s: %s",
                account_id,
                exc,
                extra=_refresh_event(account_id, "app_rejected"),
            )
            raise SpotifyAppRejected(
                f"Spotify refused the client ID or secret of this account's Spotify app "
                f"({exc.error}): copy both again from the app's settings on Spotify's "
                "developer dashboard and save them on the Connection tab"
            ) from None
        except Exception as exc:
            self._count("failed")
            logger.warning(
                "refreshing the Spotify token of account %s failed: %r",
                account_id,
                exc,
                extra=_refresh_event(account_id, "failed"),
            )
            raise
        self._count("refreshed")
        received = _Token(grant.access_token, grant.expires_at(utcnow()))
        await repo.store_refreshed_tokens(
            session,
            self._keyring,
            stored,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            expires_at=received.expires_at,
            scopes=grant.scope or None,
        )
        logger.info(
            "refreshed the Spotify token of account %s (expires %s, refresh token %s)",
            account_id,
            received.expires_at.isoformat(timespec="seconds"),
            "rotated" if grant.rotated else "kept",
            extra=_refresh_event(account_id, "refreshed"),
        )
        return received

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.token_refresh(outcome)

    async def _after_invalid_grant(
        self, account_id: uuid.UUID, refused: repo.StoredConnection
    ) -> _Token:
        """Spotify refused the refresh token: unless someone stored new tokens meanwhile
        (another process refreshed, or the streamer reconnected), mark needs_reauth."""
        async with self._db.session() as session:
            marked = await repo.mark_needs_reauth(session, refused)
            stored = None if marked else await repo.connection(session, self._keyring, account_id)
        if marked:  # committed above: the error must not roll the mark back
            logger.warning("Spotify connection of account %s needs re-authorization", account_id)
            raise SpotifyNeedsReauth()
        if stored is None:
            raise not_connected("no Spotify authorization")
        if stored.status != ConnectionStatus.ACTIVE:
            raise SpotifyNeedsReauth()
        return _Token(stored.access_token, stored.expires_at)


def _refresh_event(account_id: uuid.UUID, outcome: str) -> dict[str, str]:
    """The structured fields of a refresh's log line (``extra``)."""
    return {"event": "token_refresh", "outcome": outcome, "account_id": str(account_id)}


class _AccountTokens:
    """The token provider of one client: its last token, refreshed through the manager."""

    def __init__(self, manager: TokenManager, account_id: uuid.UUID, token: _Token) -> None:
        self._manager = manager
        self._account_id = account_id
        self._token = token

    def __repr__(self) -> str:
        return f"_AccountTokens(account_id={self._account_id!r})"

    async def __call__(self, *, force_refresh: bool = False) -> str:
        if force_refresh or not self._token.fresh(utcnow()):
            self._token = await self._manager.fresh_token(
                self._account_id, seen=self._token.value, force=force_refresh
            )
        return self._token.value

"""The poller's Spotify clients: impatient ones, and knowing which Spotify app they use.

A poll must never sleep on Spotify's behalf: the API clients wait in-line for a short
``Retry-After`` (``spotify_rate_limit_wait_cap``), which inside a poll would hold the
account's schedule and, worse, keep polling an app that is rate limited. The poller's
clients come from a token manager of its own whose request policy (:func:`poll_policy`)
waits for no 429 (``rate_limit_wait_cap`` 0: the 429 is raised at once, and
:mod:`.ratelimit` pauses the app) and gives up a call after ``poll_timeout_seconds``.

The token manager being its own changes nothing to refreshing: a refresh runs under
the connection row's lock and re-reads it first (see ``connections.token_manager``), so
the poller's manager and the API's (in this process or another) never refresh one
account twice over; it is the same as a ``tunedeck worker`` process polling.

Each client comes with the Spotify app's client id, by which 429s are grouped.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Protocol

import httpx

from tunedeck.config import Settings
from tunedeck.connections import repository as connections
from tunedeck.connections.token_manager import TokenManager, not_connected, request_policy
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.kit.metrics import Metrics
from tunedeck.spotify.client import RequestPolicy, SpotifyClient


def poll_policy(settings: Settings) -> RequestPolicy:
    """The API's policy (``connections.token_manager.request_policy``), impatient: no
    wait for a 429, and the whole call within ``poll_timeout_seconds``."""
    api = request_policy(settings)
    return dataclasses.replace(
        api, rate_limit_wait_cap=0.0, deadline=min(api.deadline, settings.poll_timeout_seconds)
    )


@dataclass(frozen=True, slots=True)
class PollClient:
    """A Spotify client for one account, and the client id of the app it goes through."""

    spotify: SpotifyClient
    app_id: str


class PollClientSource(Protocol):
    """Where the poller gets its clients (tests and benchmarks give their own)."""

    async def open(self, account_id: uuid.UUID) -> PollClient:
        """A client for the account; raises the token manager's errors
        (``SpotifyNotConnected``, ``SpotifyNeedsReauth``) when it cannot have one."""
        ...


class PollClients:
    """:class:`PollClient` s from a token manager whose clients follow ``policy``
    (:func:`poll_policy`: they never wait for a 429)."""

    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        policy: RequestPolicy,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._keyring = keyring
        self.tokens = TokenManager(db, keyring, http, settings, policy=policy, metrics=metrics)

    async def open(self, account_id: uuid.UUID) -> PollClient:
        spotify = await self.tokens.client_for(account_id)
        async with self._db.session() as session:
            app = await connections.app_credentials(session, self._keyring, account_id)
        if app is None:  # removed since client_for read it
            raise not_connected("no Spotify app credentials")
        return PollClient(spotify, app.client_id)

"""Closing live connections whose credential was revoked, in every process.

A revocation may come from any process, or from the command line, which has no bus: so
each process checks the credentials its own live connections use against the database,
every ``interval`` seconds, in one query per table (API keys, overlay tokens, dashboard
sessions) whatever the number of connections. A revoked API key, a revoked overlay
token, an ended or expired session: every connection using it is closed (4401).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager

from tunedeck.accounts import repository
from tunedeck.accounts.permissions import PrincipalKind
from tunedeck.kit.background import Backoff, SupervisedTask, wait_any
from tunedeck.kit.db import Database, utcnow
from tunedeck.realtime.credentials import Credential

logger = logging.getLogger(__name__)

OnRevoked = Callable[[], None]


class Revocations:
    """The credentials of this process's live connections, checked in the background.

    ``checks`` counts the passes that reached the database, ``closed`` the connections
    closed because their credential no longer stands.
    """

    def __init__(self, db: Database, *, interval: float = 0.5) -> None:
        self.db = db
        self.interval = interval
        self.checks = 0
        self.closed = 0
        self._watched: dict[Credential, dict[int, OnRevoked]] = {}
        self._next_token = 0
        self._failing = False
        self.task = SupervisedTask(
            "live-revocation", self._run, backoff=Backoff(initial=0.5, maximum=5.0), logger=logger
        )

    async def start(self) -> None:
        await self.task.start()

    async def stop(self) -> None:
        await self.task.stop(grace=2.0)

    @contextmanager
    def watch(self, credential: Credential, on_revoked: OnRevoked) -> Iterator[None]:
        """Call ``on_revoked`` (once) if ``credential`` is revoked while the block runs."""
        token = self.add(credential, on_revoked)
        try:
            yield
        finally:
            self.discard(credential, token)

    def add(self, credential: Credential, on_revoked: OnRevoked) -> int:
        """Call ``on_revoked`` (once) if ``credential`` is revoked, until :meth:`discard`
        is given the token returned (:meth:`watch` for a connection outliving its code)."""
        self._next_token += 1
        token = self._next_token
        self._watched.setdefault(credential, {})[token] = on_revoked
        return token

    def discard(self, credential: Credential, token: int) -> None:
        callbacks = self._watched.get(credential, {})
        callbacks.pop(token, None)
        if not callbacks:
            self._watched.pop(credential, None)

    @property
    def credential_count(self) -> int:
        return len(self._watched)

    async def check_once(self) -> int:
        """Check every watched credential now; close the connections of revoked ones.
        Returns how many connections were closed."""
        credentials = list(self._watched)
        if not credentials:
            return 0
        standing = await self._standing(credentials)
        self.checks += 1
        closed = 0
        for credential in credentials:
            if credential in standing:
                continue
            for on_revoked in list(self._watched.pop(credential, {}).values()):
                on_revoked()
                closed += 1
        self.closed += closed
        return closed

    async def _run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.check_once()
                if self._failing:
                    logger.info("live credential checks work again")
                self._failing = False
            except Exception as exc:
                # Connections stay open meanwhile: failing closed on a database blip would
                # drop every overlay on stream.
                if not self._failing:
                    logger.warning("live credential check failed: %s", type(exc).__name__)
                self._failing = True
            await wait_any(stopping, within=self.interval)

    async def stands(self, credential: Credential) -> bool:
        """Whether ``credential`` still stands now, asked of the database (a connection
        about to act on it checks, rather than wait for the next pass)."""
        return credential in await self._standing([credential])

    async def _standing(self, credentials: Collection[Credential]) -> set[Credential]:
        """Those of ``credentials`` not revoked, ended or expired (one query per table)."""
        keys = {c.id for c in credentials if c.kind is not PrincipalKind.OVERLAY}
        tokens = {c.id for c in credentials if c.kind is PrincipalKind.OVERLAY}
        sessions = {c.session_hash for c in credentials if c.session_hash is not None}
        async with self.db.session() as session:
            active_keys = await repository.active_api_key_ids(session, keys)
            active_tokens = await repository.active_overlay_token_ids(session, tokens)
            live_sessions = await repository.live_session_hashes(session, sessions, utcnow())
        return {
            credential
            for credential in credentials
            if _stands(credential, active_keys, active_tokens, live_sessions)
        }


def _stands(
    credential: Credential,
    active_keys: set[uuid.UUID],
    active_tokens: set[uuid.UUID],
    live_sessions: set[str],
) -> bool:
    if credential.kind is PrincipalKind.OVERLAY:
        return credential.id in active_tokens
    if credential.session_hash is not None and credential.session_hash not in live_sessions:
        return False
    return credential.id in active_keys

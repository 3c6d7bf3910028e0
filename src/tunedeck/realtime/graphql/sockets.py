"""A GraphQL WebSocket (``graphql-transport-ws`` on ``/graphql``): a live connection like
the feed's, whether or not it holds a subscription.

- **Opening**: until its ``connection_init`` the socket holds one of its client
  address's unauthenticated slots (``caps``), and waits at most
  ``live_auth_timeout_seconds`` for it (then 4408, the protocol's code).
- **Authentication**, in ``connection_init``: the payload's ``token`` (or
  ``Authorization: Bearer ...``), else the handshake's credential (header, the
  dashboard's cookie, ``?token=``); throttled as every door is. Any principal is
  admitted (overlay tokens too): each field checks its own permission. Refused: 4401
  (no or a bad credential), 4429 (too many failed sign-ins from the address, or over a
  connection cap), 1013 (the database could not tell just now). The credential then
  holds its slots (credential, account, address) for as long as the socket is open.
- **Withdrawal**: the credential is watched like a feed connection's
  (``revocation``): a revoked key or overlay token, a session signed out, ended by its
  key's revocation or expired, closes the socket with 4401 within a pass of the checks,
  in every process. And each operation (``subscribe``) first asks the database whether
  the credential still stands, so nothing runs on a credential withdrawn a moment ago:
  the operation is answered with an ``error`` (``extensions.code`` ``unauthorized``)
  and the socket closed. Nothing reaches Spotify, nothing is recorded.

At most :data:`MAX_OPERATIONS` operations run at once on one socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    SubscribeMessage,
)

from tunedeck.kit.addresses import limit_key
from tunedeck.kit.errors import (
    TuneDeckError,
    Unauthorized,
    database_unavailable,
    is_database_unavailable,
)
from tunedeck.player.graphql.context import GraphQLContext
from tunedeck.player.graphql.errors import format_error
from tunedeck.realtime.caps import OverCap, Slot
from tunedeck.realtime.credentials import (
    Credential,
    authenticate_principal,
    credential_of,
    handshake_secret,
)
from tunedeck.realtime.live import Live, live_of
from tunedeck.realtime.protocol import CloseCode, Refused

MAX_OPERATIONS = 20
"""Operations (subscriptions, queries, mutations) one socket may run at once."""
REVOKED = "credential revoked"


class GraphQLSocket(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """Strawberry's ``graphql-transport-ws`` handler, as a live connection (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_subscriptions_per_connection"] = MAX_OPERATIONS
        super().__init__(*args, **kwargs)
        conn = self.context.conn
        if conn is None:
            raise RuntimeError("a GraphQL socket without its connection")
        self.conn = conn
        self.live: Live = live_of(conn)
        self.address = limit_key(conn.scope)
        self.connection_init_wait_timeout = timedelta(
            seconds=self.live.settings.live_auth_timeout_seconds
        )
        self.credential: Credential | None = None
        self.context.socket = self
        self._held = ExitStack()
        self._waiting: Slot | None = None
        self._closing: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        try:
            waiting = self.live.caps.unauthenticated(self.address, "graphql")
        except OverCap as over:
            await self.websocket.close(CloseCode.TOO_MANY, over.reason)
            return
        with self._held:
            self._held.callback(waiting.release)
            self._waiting = waiting
            await super().handle()
        if self._closing is not None:
            with contextlib.suppress(Exception):
                await self._closing

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        # Strawberry's own steps (its hook cannot choose the close code), then ours.
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.websocket.close(CloseCode.BAD_MESSAGE, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(CloseCode.TOO_MANY, "Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            await self._admit(payload)
        except Refused as refused:
            await self.websocket.close(refused.code, refused.reason)
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def _admit(self, payload: dict[str, Any]) -> None:
        """Authenticate the socket, take its slots and watch its credential; :class:`Refused`."""
        secret = _payload_secret(payload) or handshake_secret(self.conn)
        if secret is None:
            raise Refused(
                CloseCode.UNAUTHENTICATED,
                "authentication required: send a token in connection_init",
            )
        principal = await authenticate_principal(self.conn, self.live.db, secret)
        credential = credential_of(principal, secret)
        try:
            slot = self.live.caps.authenticated(
                credential, principal.account_id, self.address, "graphql"
            )
        except OverCap as over:
            raise Refused(CloseCode.TOO_MANY, over.reason) from None
        if self._waiting is not None:
            self._waiting.release()
        self._held.callback(slot.release)
        self._held.enter_context(self.live.revocations.watch(credential, self._withdrawn))
        self.credential = credential
        self.context.authenticate(principal)
        self.conn.state.principal = principal  # named in the session's log line

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        operation_id = message["id"]
        if self.connection_acknowledged:
            refusal = await self._refusal()
            if refusal is not None:
                error = GraphQLError(refusal.message, original_error=refusal)
                refused: ErrorMessage = {
                    "id": operation_id,
                    "type": "error",
                    "payload": [format_error(error)],  # type: ignore[list-item]
                }
                await self.send_message(refused)
                if isinstance(refusal, Unauthorized):
                    self._withdrawn()
                return
        await super().handle_subscribe(message)

    async def _refusal(self) -> TuneDeckError | None:
        """Why no operation may run now, if something forbids it: the credential
        withdrawn (now, as the database says), or the database unable to tell."""
        if self.context.withdrawn is not None:
            return Unauthorized(self.context.withdrawn)
        if self.credential is None:
            return None
        try:
            stands = await self.live.revocations.stands(self.credential)
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            return database_unavailable()
        return None if stands else Unauthorized(REVOKED)

    def _withdrawn(self) -> None:
        """The credential no longer stands: refuse everything, close the socket (4401)."""
        self.context.withdraw(REVOKED)
        self.close_soon(CloseCode.UNAUTHENTICATED, REVOKED)

    def close_soon(self, code: int, reason: str) -> None:
        """Close the socket from any task (the first reason given is the one sent)."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(
                self.websocket.close(code, reason)
            )


def _payload_secret(params: dict[str, Any]) -> str | None:
    """The credential of a ``connection_init`` payload: ``token``, or an
    ``Authorization: Bearer ...`` entry (as GraphiQL's headers send it)."""
    token = params.get("token")
    if isinstance(token, str) and token.strip():
        return token.strip()
    header = params.get("Authorization") or params.get("authorization")
    if isinstance(header, str):
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None

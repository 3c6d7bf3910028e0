"""The GraphQL context: made by the same auth dependency as the REST doors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from tunedeck.accounts.auth import AUTHENTICATED, RULE_ATTRIBUTE, authenticated
from tunedeck.accounts.permissions import Principal
from tunedeck.kit.errors import Unauthorized
from tunedeck.player.context import PlayerContext
from tunedeck.player.deps import player_context


@dataclass(slots=True)
class LimitedCalls:
    """The fields of one operation that met the rate limits (``graphql.limits``):
    how many were admitted, how many refused and the longest wait a refusal named."""

    admitted: int = 0
    refused: int = 0
    retry_after: int = 0


class Socket(Protocol):
    """The WebSocket a context belongs to, as the code serving it may act on it."""

    def close_soon(self, code: int, reason: str) -> None:
        """Close the socket (with ``code`` and ``reason``) as soon as it can be."""
        ...


class GraphQLContext(BaseContext):
    """One GraphQL request (or WebSocket connection): the player context its fields'
    operations run with.

    Each operation opens its own short unit of work, so the fields of one query may
    run concurrently (they share no session). A WebSocket connection authenticates in
    its ``connection_init`` (by the handler that serves its socket, ``socket``): until
    then it has no player context; once its credential is withdrawn (:meth:`withdraw`),
    every field it runs is refused.
    """

    def __init__(self, player: PlayerContext | None, conn: HTTPConnection | None = None) -> None:
        super().__init__()
        self._player = player
        self.conn = conn
        self.limited = LimitedCalls()
        self.socket: Socket | None = None
        self._withdrawn: str | None = None

    @property
    def player(self) -> PlayerContext:
        if self._withdrawn is not None:
            raise Unauthorized(self._withdrawn)
        if self._player is None:
            raise Unauthorized("authentication required: send a token in connection_init")
        return self._player

    def withdraw(self, reason: str) -> None:
        """The connection's credential no longer stands: refuse everything from now on."""
        self._withdrawn = reason

    @property
    def withdrawn(self) -> str | None:
        """Why the credential no longer stands; None while it does."""
        return self._withdrawn

    @property
    def principal(self) -> Principal:
        return self.player.principal

    def authenticate(self, principal: Principal) -> None:
        """The WebSocket connection's principal, once ``connection_init`` proved it."""
        if self.conn is None:
            raise RuntimeError("only a connection's context authenticates")
        self._player = player_context(self.conn, principal)


async def graphql_principal(conn: HTTPConnection) -> Principal | None:
    """An HTTP request's principal (401 without credentials, 403 for overlay tokens, as
    REST); None for a WebSocket handshake, which authenticates in ``connection_init``."""
    if conn.scope["type"] == "websocket":
        return None
    return await authenticated(conn)


# The rule the route table reads: every HTTP operation needs a key or a session.
setattr(graphql_principal, RULE_ATTRIBUTE, AUTHENTICATED)


async def graphql_context(
    conn: HTTPConnection,
    principal: Annotated[Principal | None, Depends(graphql_principal)],
) -> GraphQLContext:
    """FastAPI dependency: the context of a request or of a WebSocket connection."""
    if principal is None:
        return GraphQLContext(None, conn)
    return GraphQLContext(player_context(conn, principal), conn)

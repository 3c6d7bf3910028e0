"""The GraphQL context: made by the same auth dependency and session as the REST doors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from tunedeck.accounts.auth import authenticated
from tunedeck.accounts.permissions import Principal
from tunedeck.kit.db import SessionDep
from tunedeck.player.context import PlayerContext
from tunedeck.player.deps import player_context

T = TypeVar("T")


class GraphQLContext(BaseContext):
    """One GraphQL request: the player context (principal, request session, Spotify)."""

    def __init__(self, player: PlayerContext) -> None:
        super().__init__()
        self.player = player
        # GraphQL resolves a query's fields concurrently, but one AsyncSession cannot run
        # two statements at once: operations of one request take turns.
        self._turn = asyncio.Lock()

    async def run(self, operation: Callable[[PlayerContext], Awaitable[T]]) -> T:
        async with self._turn:
            return await operation(self.player)


async def graphql_context(
    conn: HTTPConnection,
    session: SessionDep,
    principal: Annotated[Principal, Depends(authenticated)],
) -> GraphQLContext:
    """FastAPI dependency: 401 without credentials, 403 for overlay tokens, as REST.

    The request's session commits after the GraphQL answer is built and before it is
    sent (its dependency scope), so recorded events are durable when the caller reads.
    """
    return GraphQLContext(await player_context(conn, principal, session))

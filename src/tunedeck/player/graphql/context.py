"""The GraphQL context: made by the same auth dependency as the REST doors."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from tunedeck.accounts.auth import authenticated
from tunedeck.accounts.permissions import Principal
from tunedeck.player.context import PlayerContext
from tunedeck.player.deps import player_context


class GraphQLContext(BaseContext):
    """One GraphQL request: the player context its fields' operations run with.

    Each operation opens its own short unit of work, so the fields of one query may
    run concurrently (they share no session).
    """

    def __init__(self, player: PlayerContext) -> None:
        super().__init__()
        self.player = player


async def graphql_context(
    conn: HTTPConnection,
    principal: Annotated[Principal, Depends(authenticated)],
) -> GraphQLContext:
    """FastAPI dependency: 401 without credentials, 403 for overlay tokens, as REST."""
    return GraphQLContext(player_context(conn, principal))

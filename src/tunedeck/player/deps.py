"""How a door builds a :class:`PlayerContext` from its connection (REST and GraphQL alike)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from tunedeck.accounts.permissions import Principal
from tunedeck.connections.deps import get_token_manager
from tunedeck.player.context import PlayerContext
from tunedeck.player.state import StateCache

STATE_CACHE = "player_state_cache"
"""Attribute of ``app.state`` holding the process's :class:`StateCache`."""


def state_cache(conn: HTTPConnection) -> StateCache:
    cache: StateCache = getattr(conn.app.state, STATE_CACHE)
    return cache


async def player_context(
    conn: HTTPConnection, principal: Principal, session: AsyncSession
) -> PlayerContext:
    """The context of one operation called through ``conn`` by ``principal``.

    Authentication's transaction (its reads, and the key's last-use stamp) ends here.
    Otherwise the request would hold a pooled connection, and on SQLite the write lock,
    for as long as Spotify takes to answer: concurrent requests waiting on Spotify would
    drain the pool, and the token manager (which reads and writes in its own short
    transactions) would wait for the very request it serves. The operation's own writes
    (its event) open a new transaction, committed by the request session as always.
    """
    await session.commit()
    return PlayerContext(principal, session, get_token_manager(conn), state_cache(conn))

"""How a door builds a :class:`PlayerContext` from its connection (REST and GraphQL alike)."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from tunedeck.accounts.permissions import Principal
from tunedeck.connections.deps import get_token_manager
from tunedeck.kit.deps import runtime_of
from tunedeck.kit.unit_of_work import get_units
from tunedeck.player.context import PlayerContext
from tunedeck.player.state import StateCache


class PlayerRuntime(Protocol):
    """The part of the process's runtime the player's doors read (``kit.deps``)."""

    @property
    def player_state(self) -> StateCache: ...


def state_cache(conn: HTTPConnection) -> StateCache:
    """The process's player state cache (its now_playing part: the now-playing store)."""
    runtime: PlayerRuntime = runtime_of(conn)
    return runtime.player_state


def player_context(conn: HTTPConnection, principal: Principal) -> PlayerContext:
    """The context of one operation called through ``conn`` by ``principal``.

    It carries the app's units of work, not a session: the operation opens its own short
    units of work, so nothing holds a transaction or a pooled connection while Spotify
    answers.
    """
    return PlayerContext(principal, get_units(conn), get_token_manager(conn), state_cache(conn))

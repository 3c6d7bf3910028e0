"""Plugging the player into the web application."""

from __future__ import annotations

from fastapi import FastAPI

from tunedeck.config import Settings
from tunedeck.player.deps import STATE_CACHE
from tunedeck.player.graphql.schema import SocketHandler, install_graphql
from tunedeck.player.rest import router
from tunedeck.player.state import StateCache


def install_player(
    app: FastAPI,
    settings: Settings,
    *,
    subscription: type | None = None,
    sockets: SocketHandler | None = None,
) -> None:
    """The REST doors under ``/v1/spotify``, ``/graphql``, and the shared state cache.
    ``subscription`` and ``sockets``: the GraphQL Subscription type of whoever serves live
    data, and the handler of the WebSockets carrying them."""
    setattr(app.state, STATE_CACHE, StateCache(ttl=settings.player_state_cache_seconds))
    app.include_router(router)
    install_graphql(app, settings, subscription, sockets)

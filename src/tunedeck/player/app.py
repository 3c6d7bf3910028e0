"""Plugging the player into the web application."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from tunedeck.config import Settings
from tunedeck.player.graphql.schema import SocketHandler, install_graphql
from tunedeck.player.rest import router


def install_player(
    app: FastAPI,
    settings: Settings,
    *,
    subscription: type | None = None,
    sockets: SocketHandler | None = None,
    queries: Sequence[type] = (),
    mutations: Sequence[type] = (),
) -> None:
    """The REST doors under ``/v1/spotify`` and ``/graphql`` (their state cache is the
    runtime's, ``player.deps``). ``subscription`` and ``sockets``: the GraphQL
    Subscription type of whoever serves live data, and the handler of the WebSockets
    carrying them; ``queries`` and ``mutations``: other domains' GraphQL fields."""
    # GraphQL first: its two routes cost the REST doors little to pass, the REST doors'
    # nineteen would cost every GraphQL call more (routes are tried in order).
    install_graphql(app, settings, subscription, sockets, queries=queries, mutations=mutations)
    app.include_router(router)

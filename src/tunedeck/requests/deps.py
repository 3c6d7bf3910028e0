"""How a door builds a :class:`RequestsContext` from its connection (REST, GraphQL and the
chat door alike)."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from tunedeck.accounts.permissions import Principal
from tunedeck.connections.deps import get_token_manager
from tunedeck.kit.deps import runtime_of
from tunedeck.kit.unit_of_work import get_units
from tunedeck.player.deps import state_cache
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.matching import Matcher


class RequestsRuntime(Protocol):
    """The part of the process's runtime the request doors read (``kit.deps``)."""

    @property
    def request_matcher(self) -> Matcher: ...


def matcher_of(conn: HTTPConnection) -> Matcher:
    runtime: RequestsRuntime = runtime_of(conn)
    return runtime.request_matcher


def requests_context(conn: HTTPConnection, principal: Principal) -> RequestsContext:
    """The context of one request operation called through ``conn`` by ``principal``."""
    return RequestsContext(
        principal, get_units(conn), get_token_manager(conn), state_cache(conn), matcher_of(conn)
    )

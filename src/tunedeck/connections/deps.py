"""FastAPI dependencies of the connections domain."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends
from starlette.requests import HTTPConnection

from tunedeck.connections.token_manager import TokenManager
from tunedeck.kit.deps import runtime_of


class ConnectionsRuntime(Protocol):
    """The part of the process's runtime the connections domain reads (``kit.deps``)."""

    @property
    def token_manager(self) -> TokenManager: ...


def get_token_manager(conn: HTTPConnection) -> TokenManager:
    """The process's token manager."""
    runtime: ConnectionsRuntime = runtime_of(conn)
    return runtime.token_manager


TokenManagerDep = Annotated[TokenManager, Depends(get_token_manager)]

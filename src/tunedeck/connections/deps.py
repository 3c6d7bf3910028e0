"""FastAPI dependencies of the connections domain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from tunedeck.connections.token_manager import TokenManager


def get_token_manager(conn: HTTPConnection) -> TokenManager:
    """The app's token manager (built by the lifespan as ``app.state.token_manager``)."""
    manager: TokenManager = conn.app.state.token_manager
    return manager


TokenManagerDep = Annotated[TokenManager, Depends(get_token_manager)]

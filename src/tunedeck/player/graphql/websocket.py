"""The WebSocket under a GraphQL connection, as Strawberry's protocol handlers use it.

A socket may close under an operation: the client leaves while a subscription sends, or
the server closes it (a credential revoked, the server shutting down) while an operation
still has a message to send. Strawberry's adapter then raises from the send, and its
handler logs the operation as an ``ERROR`` with a traceback: an incident for what is
only the end of a connection. :class:`QuietWebSocketAdapter` drops a message for a
socket that is gone, and closes a socket once however many times it is asked to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from starlette.websockets import WebSocketDisconnect, WebSocketState
from starlette.websockets import WebSocketDisconnected as StarletteDisconnected
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected


class QuietWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter of a Starlette WebSocket, quiet about a socket that is gone."""

    def _gone(self) -> bool:
        disconnected = WebSocketState.DISCONNECTED
        return self.ws.application_state is disconnected or self.ws.client_state is disconnected

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self._gone():
            return  # nobody left to read it
        with contextlib.suppress(WebSocketDisconnected, StarletteDisconnected):
            await super().send_json(message)

    async def close(self, code: int, reason: str) -> None:
        if self._gone():
            return
        with contextlib.suppress(WebSocketDisconnect, StarletteDisconnected, OSError):
            await self.ws.close(code=code, reason=reason)

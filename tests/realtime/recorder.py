"""The simulator behind a recorder: every Web API request with its token, its answer and
when it arrived and was answered (``time.monotonic()``, the clock the pollers of this
process schedule on), so that tests can tell which account was polled, how often, and
what Spotify answered, without measuring durations.

It also serves the simulator under path prefixes (``/a``, ``/b``, ...): two worker
processes given two prefixes as their Spotify API URL are told apart in the record.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Request:
    """One Web API request as the simulator saw it."""

    prefix: str
    method: str
    path: str
    token: str | None
    status: int
    retry_after: float | None
    arrived: float
    answered: float


class Recorder:
    """ASGI middleware in front of the simulator app; ``requests`` grows as they come."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.prefixes = prefixes
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.requests = []

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def polls(self, token: str | None = None) -> list[Request]:
        """The playback reads (what the poller asks), of one token if given."""
        return [
            r
            for r in self.snapshot()
            if r.method == "GET"
            and r.path == "/v1/me/player"
            and (token is None or r.token == token)
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        prefix = next((p for p in self.prefixes if path.startswith(p + "/")), "")
        if prefix:
            path = path[len(prefix) :]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        if not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode()
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        arrived = time.monotonic()
        answer: dict[str, Any] = {"status": 0, "retry_after": None}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"retry-after":
                        answer["retry_after"] = float(value)
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            record = Request(
                prefix,
                scope["method"],
                path,
                token,
                answer["status"],
                answer["retry_after"],
                arrived,
                time.monotonic(),
            )
            with self._lock:
                self.requests.append(record)

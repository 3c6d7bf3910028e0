"""Spotify-shaped error bodies and the fast JSON responses the simulator answers with."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response, encoded compactly (cheaper than Starlette's JSONResponse)."""
    return Response(
        _dumps(data).encode(), status_code=status, headers=headers, media_type="application/json"
    )


class SpotifyError(Exception):
    """A Web API error: ``{"error": {"status", "message", "reason"?}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = headers

    def response(self) -> Response:
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.reason:
            error["reason"] = self.reason
        return json_response({"error": error}, self.status, self.headers)


def bad_request(message: str) -> SpotifyError:
    return SpotifyError(400, message)


def not_found(message: str = "Resource not found") -> SpotifyError:
    return SpotifyError(404, message)


def forbidden(message: str, reason: str | None = None) -> SpotifyError:
    return SpotifyError(403, message, reason)

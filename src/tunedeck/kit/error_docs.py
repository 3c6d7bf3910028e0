"""How error answers are described in ``/openapi.json``, the same for every door."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tunedeck.kit.errors import ErrorDetails


class ErrorBodyOut(BaseModel):
    """What went wrong: a stable machine ``code``, a message for people, and details."""

    code: str
    message: str
    details: ErrorDetails | None = None


class ErrorOut(BaseModel):
    """Every error answer: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorBodyOut


def error_doc(description: str, **extra: Any) -> dict[str, Any]:
    """One documented error status (a FastAPI ``responses`` entry) with the error schema."""
    return {"model": ErrorOut, "description": description, **extra}


RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {
        "description": "Whole seconds to wait before trying again (at least 1).",
        "schema": {"type": "integer", "minimum": 1},
    }
}
"""The ``Retry-After`` header of every answer that says when to try again (429, 503)."""

FAILED_LOGINS_DOC = error_doc(
    "Too many failed sign-ins from this client address (too_many_failed_logins): "
    "nothing was checked.",
    headers=RETRY_AFTER,
)

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_doc("No valid credentials."),
    403: error_doc("The key lacks the permission."),
    429: FAILED_LOGINS_DOC,
}

RATE_LIMITED = error_doc(
    "Too many calls: this API key or its account is over its rate limit (code "
    "too_many_requests; nothing was sent to Spotify), Spotify is rate limiting this "
    "app (code rate_limited), or this client address failed to sign in too often "
    "(code too_many_failed_logins).",
    headers=RETRY_AFTER,
)

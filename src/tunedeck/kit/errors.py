"""One error family for every door, and the FastAPI handlers that render it.

Services raise these; REST renders them as ``{"error": {"code", "message"}}`` with
the status they carry, GraphQL maps the same ``code`` to ``extensions.code``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class TuneDeckError(Exception):
    """An expected failure with an HTTP status, a stable machine code and a safe message."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # Instance overrides keep the class defaults for the common case.
        if code is not None:
            self.code = code  # type: ignore[misc]
        if status is not None:
            self.status = status  # type: ignore[misc]
        self.headers = dict(headers or {})
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class BadRequest(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    """Input that is well-formed but not acceptable (422)."""

    status = 422
    code = "validation_error"


class Unauthorized(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "Missing or invalid credentials.", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 403
    code = "forbidden"


class NotFound(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 404
    code = "not_found"


class Conflict(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 409
    code = "conflict"


class ServiceUnavailable(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 503
    code = "service_unavailable"


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, **extra}
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


async def _tunedeck_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TuneDeckError)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)


def _describe_validation(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    details = []
    parts = []
    for err in errors:
        # Drop the leading "body"/"query" marker only from the readable message.
        loc = [str(p) for p in err.get("loc", ())]
        where = ".".join(loc[1:] if len(loc) > 1 else loc)
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{where}: {msg}" if where else msg)
        details.append({"loc": loc, "message": msg, "type": err.get("type")})
    return "Invalid request: " + "; ".join(parts), details


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, details = _describe_validation(list(exc.errors()))
    return error_response(422, "validation_error", message, details=details)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's own errors (unknown route, wrong method, malformed JSON) in our shape.
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness or reference race the service could not see coming (details stay in the log).
    logger.info("integrity error on %s %s: %s", request.method, request.url.path, type(exc))
    return error_response(409, "conflict", "The change conflicts with existing data.")


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Log the traceback for the operator; the client only learns that it failed.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Internal server error.")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the app in the one JSON shape."""
    app.add_exception_handler(TuneDeckError, _tunedeck_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected_error)

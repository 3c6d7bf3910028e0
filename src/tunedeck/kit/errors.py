"""One error family for every door, and the FastAPI handlers that render it.

Services raise these; REST renders them as ``{"error": {"code", "message", "details"?}}``
with the status they carry, GraphQL maps the same ``code`` to ``extensions.code`` and the
same ``details`` to ``extensions.details``. ``details`` has one shape everywhere:
:class:`ErrorDetails`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunedeck.kit.response_headers import DefaultHeaders

logger = logging.getLogger(__name__)

# Where FastAPI says a value came from; the field's own name is what a caller needs.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


class FieldError(BaseModel):
    """One input that was refused."""

    field: str = Field(description="Its name as the caller sent it (``uris[2]`` for an item).")
    message: str
    type: str = Field(description="A machine name of the rule it broke (``int_type``, ...).")


class ErrorDetails(BaseModel):
    """Everything an error can add to its message; only what applies is present."""

    fields: list[FieldError] | None = Field(
        default=None, description="The inputs that were refused (validation errors)."
    )
    permission: str | None = Field(default=None, description="The permission that is missing.")
    retry_after: int | None = Field(
        default=None, description="Seconds to wait before trying again (rate limited)."
    )
    spotify_status: int | None = Field(
        default=None, description="The HTTP status Spotify answered."
    )
    spotify_reason: str | None = Field(
        default=None, description="Spotify's reason (NO_ACTIVE_DEVICE, PREMIUM_REQUIRED, ...)."
    )
    hint: str | None = Field(default=None, description="What to do about it.")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


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
        details: ErrorDetails | None = None,
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
            body["details"] = self.details.to_dict()
        return {"error": body}


class BadRequest(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    """Input that is well-formed but not acceptable (422)."""

    status = 422
    code = "validation_error"

    @classmethod
    def of_fields(cls, errors: list[FieldError]) -> ValidationFailed:
        """The answer to refused inputs, each named in the message and the details."""
        listed = "; ".join(f"{e.field}: {e.message}" for e in errors)
        return cls(listed or "Invalid input.", details=ErrorDetails(fields=errors))

    @classmethod
    def of_pydantic(cls, exc: PydanticValidationError) -> ValidationFailed:
        return cls.of_fields(field_errors(exc.errors()))


class InvalidJson(BadRequest):
    """A body that is not JSON at all (400): nothing in it could be read."""

    code = "invalid_json"

    def __init__(self, message: str = "The request body is not valid JSON.") -> None:
        super().__init__(message)


def invalid_input(field: str, message: str, *, rule: str = "value_error") -> ValidationFailed:
    """A single refused input (for a rule only the service can check)."""
    return ValidationFailed.of_fields([FieldError(field=field, message=message, type=rule)])


def field_name(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """``("body", "uris", 2)`` -> ``uris[2]``: the name as the caller wrote the input."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES and len(parts) > 1:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "input"


def field_errors(errors: Any) -> list[FieldError]:
    """Pydantic's (or FastAPI's) error list in the one documented shape.

    A model-level rule names its field in ``ctx.field`` (pydantic gives such errors no
    location of their own), and an unknown field is named as it was sent.
    """
    found = []
    for err in errors:
        ctx = err.get("ctx") or {}
        loc = tuple(err.get("loc", ()))
        if isinstance(ctx.get("field"), str):
            loc = (*loc, ctx["field"])
        rule = str(err.get("type", "value_error"))
        message = str(err.get("msg", "is invalid"))
        if rule == "extra_forbidden":
            message = "is not a field of this input"
        elif rule == "missing":
            message = "is required"
        found.append(FieldError(field=field_name(loc), message=message, type=rule))
    return found


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


class PayloadTooLarge(TuneDeckError):  # noqa: N818 (HTTP names read better)
    """A request body over the size limit (413), refused before it was read in full."""

    status = 413
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than {limit} bytes.",
            # The rest of the body stays unread: the connection cannot carry another request.
            headers={"Connection": "close"},
        )


class UnsupportedMediaType(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(TuneDeckError):  # noqa: N818 (HTTP names read better)
    status = 503
    code = "service_unavailable"


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


async def _tunedeck_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TuneDeckError)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        unreadable = InvalidJson()
        return JSONResponse(unreadable.to_dict(), status_code=unreadable.status)
    failed = ValidationFailed.of_fields(field_errors(errors))
    return JSONResponse(failed.to_dict(), status_code=failed.status)


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
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(exc.status_code, code, str(exc.detail), headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path. Starlette's 405 names only
    the first route that matched the path, when several share it (GET and POST ...).
    A path written out in full (``/playlists/new``) is that route's alone, though a
    template (``/playlists/{playlist_id}``) would match it too."""
    static: set[str] = set()
    templated: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):  # included routers too
        if route.methods:
            match, _ = route.matches(request.scope)  # PARTIAL: the path, not the method
            if match is not Match.NONE:
                (templated if "{" in (route.path_format or "") else static).update(route.methods)
    return sorted(static or templated)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness or reference race the service could not see coming (details stay in the log).
    logger.info("integrity error on %s %s: %s", request.method, request.url.path, type(exc))
    return error_response(409, "conflict", "The change conflicts with existing data.")


DATABASE_BUSY_RETRY_AFTER = 2
# SQLite's words for "another connection holds the lock" (after the busy timeout).
_SQLITE_BUSY = ("database is locked", "database is busy")
# PostgreSQL's SQLSTATEs for a server that cannot serve us now: the connection exception
# class (08...), and a server shutting down or starting up (57P01 admin shutdown, 57P02
# crash shutdown, 57P03 cannot connect now), as met while it is restarted.
_POSTGRES_UNAVAILABLE_CLASS = "08"
_POSTGRES_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03"})


def _postgres_unavailable(error: object) -> bool:
    """Whether a driver error carries one of the SQLSTATEs above (asyncpg sets
    ``sqlstate``, and SQLAlchemy's asyncpg adapter copies it)."""
    state = getattr(error, "sqlstate", None)
    if not isinstance(state, str):
        return False
    return state.startswith(_POSTGRES_UNAVAILABLE_CLASS) or state in _POSTGRES_UNAVAILABLE_STATES


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve us *now* (try again shortly) rather
    than that something is wrong (a missing table, bad SQL: those stay 500s).

    Now: every pooled connection busy for the pool's whole timeout; the server refused,
    reset, timed out or could not be resolved (asyncpg raises these unwrapped, as
    ``OSError``); a connection lost mid-statement (SQLAlchemy marks it invalidated);
    PostgreSQL shutting down or starting up; SQLite's file locked by another writer past
    the busy timeout."""
    if isinstance(exc, SQLAlchemyTimeoutError | OSError) or _postgres_unavailable(exc):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or _postgres_unavailable(exc.orig):
            return True
        message = str(exc.orig).lower()
        return isinstance(exc, OperationalError) and any(w in message for w in _SQLITE_BUSY)
    return False


def database_unavailable() -> ServiceUnavailable:
    """What a client is told when the database could not serve it (any door)."""
    return ServiceUnavailable(
        "The database is busy or unreachable; try again shortly.",
        headers={"Retry-After": str(DATABASE_BUSY_RETRY_AFTER)},
        details=ErrorDetails(retry_after=DATABASE_BUSY_RETRY_AFTER),
    )


def describe(exc: BaseException) -> str:
    """One line naming an error, for the log or a stored error column: its class and
    the first line of its text (SQLAlchemy hides statement parameters)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_database_unavailable(exc):
        return await _unexpected_error(request, exc)
    logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, describe(exc)
    )
    return await _tunedeck_error(request, database_unavailable())


CLIENT_LEFT = 499
"""The status logged for a request whose client left before it was read (nginx's
"client closed request"); nobody receives it."""


async def _client_left(request: Request, exc: Exception) -> Response:
    # The client hung up while its body was read (it gave up waiting): nothing failed here.
    logger.info("client left before its request was read: %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_LEFT)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Log the traceback for the operator; the client only learns that it failed.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Internal server error.")


class AnsweredErrorsStop:
    """Wraps the whole app, outside Starlette's ServerErrorMiddleware.

    That middleware answers an unhandled error with :func:`_unexpected_error` (the 500
    body, the traceback logged) and then re-raises it, so that the server sees it, and
    uvicorn drops the connection: the client's next keep-alive request would fail. Once
    the 500 went out whole, the error stops here and the connection stays usable. An
    error after a response was half sent still reaches the server, which must close.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def watched(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if not answered:
                raise


class TuneDeckAPI(FastAPI):
    """FastAPI whose unhandled errors leave the connection usable (:class:`AnsweredErrorsStop`)
    and whose every answer, a 500 of Starlette's outermost middleware included, carries
    the default headers (``kit.response_headers``: nosniff, a Content-Security-Policy)."""

    def build_middleware_stack(self) -> ASGIApp:
        return AnsweredErrorsStop(DefaultHeaders(super().build_middleware_stack()))


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the app in the one JSON shape."""
    app.add_exception_handler(TuneDeckError, _tunedeck_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(ClientDisconnect, _client_left)
    # The classes a database outage raises; each is judged by is_database_unavailable.
    for kind in (SQLAlchemyTimeoutError, DBAPIError, OSError):
        app.add_exception_handler(kind, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)

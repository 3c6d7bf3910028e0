"""``/openapi.json`` says what every door answers, not only what its route declares.

Some answers come from the app around the routes rather than from one of them: 401 and
403 from authentication (every route but the public ones), 400 for a body that is not
JSON, 413 for a body that is too large, 429 from the rate limits of the player's
doors, 503 when the database is unavailable (every route: even authenticating reads
it). They are added here, to each operation they can come from, once the description is
generated; what a route declares itself is kept. The credentials are described too
(a bearer API key, or the dashboard's session cookie), on every route that needs them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tunedeck.accounts.auth import PUBLIC, SESSION_COOKIE, route_table
from tunedeck.kit.error_docs import AUTH_ERRORS, RATE_LIMITED, RETRY_AFTER, error_doc

PLAYER_PREFIX = "/v1/spotify/"
BAD_BODY = error_doc("The body is not JSON (invalid_json).")
TOO_LARGE = error_doc("The body is larger than the server accepts (payload_too_large).")
UNAVAILABLE = error_doc(
    "The database is busy or unreachable (service_unavailable); try again shortly.",
    headers=RETRY_AFTER,
)
SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: 'Authorization: Bearer tdk_...'.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The dashboard's session (state-changing calls also send X-CSRF-Token).",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"session": []}]


def describe_whole_app(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the statuses and credentials every route shares."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(app, generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(app: FastAPI, description: dict[str, Any]) -> None:
    """Add the shared statuses and the credentials to ``description`` (of ``app``)."""
    public = {
        (entry.path, method.lower())
        for entry in route_table(app)
        if PUBLIC in entry.rules
        for method in entry.methods
    }
    extra: dict[int | str, dict[str, Any]]
    for path, operations in description.get("paths", {}).items():
        for method, operation in operations.items():
            extra = {}
            if (path, method) not in public:
                operation.setdefault("security", SECURITY)
                extra.update(AUTH_ERRORS)
            if "requestBody" in operation:
                extra.update({400: BAD_BODY, 413: TOO_LARGE})
            if path.startswith(PLAYER_PREFIX):
                extra[429] = RATE_LIMITED
            extra[503] = UNAVAILABLE
            responses = operation.setdefault("responses", {})
            for status, doc in extra.items():
                responses.setdefault(str(status), _response(doc))
    components = description.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)


def _response(doc: dict[str, Any]) -> dict[str, Any]:
    """An ``error_doc`` as it appears in the description (the error schema is a component
    FastAPI already wrote: every router's own errors use it)."""
    response: dict[str, Any] = {
        "description": doc["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    if "headers" in doc:
        response["headers"] = doc["headers"]
    return response

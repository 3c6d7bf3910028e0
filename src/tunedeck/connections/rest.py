"""REST doors of the connections domain: app credentials, connect (OAuth), status, disconnect.

Everything is admin-only except the callback, which the streamer's browser reaches from
Spotify: it is authenticated by its single-use ``state``, not by a key. Transport only:
the service checks the permission and does the work; answering JSON, a redirect or an
HTML page is the door's part.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from tunedeck.accounts.auth import GuardedRoute, call_context, credential_from, public
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission
from tunedeck.connections import oauth_flow, service
from tunedeck.connections.deps import TokenManagerDep
from tunedeck.connections.schemas import (
    AppCredentialsIn,
    AppCredentialsOut,
    AuthorizeOut,
    CallbackOut,
    ConnectionOut,
)
from tunedeck.kit.db import Database, get_database
from tunedeck.kit.deps import HttpClientDep, KeyringDep, SettingsDep
from tunedeck.kit.error_docs import error_doc
from tunedeck.kit.errors import TuneDeckError, Unauthorized

router = APIRouter(prefix="/v1/connections/spotify", tags=["connections"], route_class=GuardedRoute)

NOT_READY = error_doc(
    "No Spotify app credentials yet, or TUNEDECK_PUBLIC_URL is not a redirect URI Spotify accepts."
)
# The browser gets the callback's errors as a page, a client asking for JSON as JSON.
CALLBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    status: error_doc(description, content={"text/html": {"schema": {"type": "string"}}})
    for status, description in (
        (400, "Denied, unknown, used or expired authorization (state), or no code."),
        (409, "The account's app credentials are missing, or Spotify refused them."),
        (503, "Spotify's accounts service failed."),
    )
}

Admin = Annotated[CallContext, call_context(Permission.ADMIN)]
DatabaseDep = Annotated[Database, Depends(get_database)]


@router.get("")
async def get_connection(ctx: Admin, keyring: KeyringDep) -> ConnectionOut:
    """Whether Spotify is connected: the Spotify user, granted scopes, token expiry, status."""
    return await service.connection_status(ctx, keyring)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def disconnect(ctx: Admin) -> None:
    """Disconnect Spotify: the stored tokens are deleted (the app credentials stay)."""
    await service.disconnect(ctx)


@router.get("/app")
async def get_app(ctx: Admin, keyring: KeyringDep) -> AppCredentialsOut:
    """Whether the Spotify app is configured (the secret is never shown)."""
    return await service.app_credentials_status(ctx, keyring)


@router.put("/app")
async def put_app(
    body: AppCredentialsIn, ctx: Admin, keyring: KeyringDep, manager: TokenManagerDep
) -> AppCredentialsOut:
    """Store the Spotify app's client id and secret (encrypted at rest)."""
    return await service.set_app_credentials(ctx, keyring, body, manager.quirks)


@router.get(
    "/authorize",
    responses={
        303: {"description": "Redirect to Spotify's consent page."},
        409: NOT_READY,
        422: error_doc("return_to is not a path of this site, or format is unknown."),
    },
    response_model=AuthorizeOut,
)
async def authorize(
    ctx: Admin,
    keyring: KeyringDep,
    http: HttpClientDep,
    settings: SettingsDep,
    return_to: Annotated[
        str | None,
        Query(
            max_length=500,
            description="A path of this site to land on.",
            # Checked by oauth_flow (invalid_return_to), stated here.
            json_schema_extra={"pattern": oauth_flow.RETURN_TO},
        ),
    ] = None,
    format: Annotated[
        Literal["redirect", "json"], Query(description="json: answer the URL instead.")
    ] = "redirect",
) -> Response:
    """Start connecting Spotify: a redirect to Spotify's consent page (or its URL as JSON)."""
    started = await oauth_flow.start(ctx, keyring, http, settings, return_to=return_to)
    if format == "json":
        body = AuthorizeOut(authorize_url=started.authorize_url, expires_at=started.expires_at)
        return JSONResponse(body.model_dump(mode="json"))
    return RedirectResponse(started.authorize_url, status_code=status.HTTP_303_SEE_OTHER)


@router.get(
    "/callback",
    dependencies=[Depends(public)],
    responses={303: {"description": "Back to the dashboard."}, **CALLBACK_ERRORS},
    response_model=CallbackOut,
)
async def callback(
    request: Request,
    db: DatabaseDep,
    keyring: KeyringDep,
    http: HttpClientDep,
    settings: SettingsDep,
    # Checked by oauth_flow (an HTML page for the browser when refused), stated here.
    state: Annotated[str | None, Query(json_schema_extra={"pattern": oauth_flow.STATE})] = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    """Where Spotify sends the browser back. Authenticated by the single-use state."""
    json_wanted = _wants_json(request)
    try:
        try:
            credential = credential_from(request)
        except Unauthorized:  # a malformed header: the state alone decides
            credential = None
        finished = await oauth_flow.finish(
            db,
            keyring,
            http,
            settings,
            state=state,
            code=code,
            error=error,
            credential=credential,
        )
    except oauth_flow.ConnectionFailed as failed:
        if json_wanted:
            raise failed.error from None
        if failed.return_to:  # the page that started it explains (connect_error=code)
            target = _with_query(failed.return_to, connect_error=failed.error.code)
            return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
        return HTMLResponse(_error_page(failed.error.message), status_code=failed.error.status)
    except TuneDeckError as exc:
        if json_wanted:
            raise
        return HTMLResponse(_error_page(exc.message), status_code=exc.status)
    if json_wanted:
        body = CallbackOut(connection=finished.connection, return_to=finished.return_to)
        return JSONResponse(body.model_dump(mode="json"))
    return RedirectResponse(
        _with_query(finished.return_to, connected="spotify"),
        status_code=status.HTTP_303_SEE_OTHER,
    )


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def _with_query(path: str, **params: str) -> str:
    parts = urlsplit(path)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))


def _error_page(message: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Spotify not connected - TuneDeck</title></head><body>"
        "<h1>Spotify was not connected</h1>"
        f"<p>{escape(message)}</p>"
        "<p>Nothing was changed. Go back and press “Connect Spotify” again.</p>"
        '<p><a href="/setup">Back to setup</a> · <a href="/">Back to the dashboard</a></p>'
        "</body></html>"
    )

"""The accounts service: ``GET /authorize`` (consent is instant) and ``POST /api/token``.

As Spotify's, ``/authorize`` sends a code only to one of the app's registered redirect
URIs (a loopback address registered without a port: on any port); an unknown app or
another URI gets Spotify's error page (``INVALID_CLIENT: ...``), never a redirect.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import ipaddress
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tunedeck.simulator import faults
from tunedeck.simulator.defaults import DEMO_USER
from tunedeck.simulator.errors import json_response
from tunedeck.simulator.specs import AppConfig
from tunedeck.simulator.state import SimulatorState
from tunedeck.simulator.tokens import CODE_TTL_SECONDS, AuthCode, TokenRefused, TokenStore


def oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def error_page(message: str) -> Response:
    """The page Spotify's accounts service shows instead of redirecting (400)."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title>'
        f"</head><body><h1>{html.escape(message)}</h1></body></html>"
    )
    headers = {
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(body, status_code=400, headers=headers)


def _loopback_literal(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_allowed(app: AppConfig, uri: str) -> bool:
    """Whether ``uri`` is one of ``app``'s registered redirect URIs, as Spotify matches
    them: exactly, except that a loopback address registered without a port stands for
    every port (a local app listens where it can). https, or http on a loopback
    address only; never ``localhost``."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    loopback = _loopback_literal(parts.hostname)
    if not (parts.scheme == "https" and parts.hostname) and not (
        parts.scheme == "http" and loopback
    ):
        return False
    if uri in app.redirect_uris:
        return True
    if not loopback or port is None or parts.username is not None:
        return False
    host = parts.netloc.rsplit(":", 1)[0]  # 127.0.0.1, [::1]
    return urlunsplit(parts._replace(netloc=host)) in app.redirect_uris


def with_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` added to its query string."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_body(
    access: str, scopes: tuple[str, ...], expires_in: int, refresh: str | None
) -> dict[str, object]:
    """What /api/token answers (and ``POST /_sim/tokens``)."""
    body: dict[str, object] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": " ".join(scopes),
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    return body


def routes(sim: SimulatorState) -> list[Route]:
    async def authorize(request: Request) -> Response:
        sim.stats.requests["GET /authorize"] += 1
        await faults.delay(sim)
        params = request.query_params
        app = sim.apps.get(params.get("client_id", ""))
        if app is None:
            return error_page("INVALID_CLIENT: Invalid client")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or not redirect_allowed(app, redirect_uri):
            return error_page("INVALID_CLIENT: Invalid redirect URI")
        state = params.get("state")

        def back(**values: str) -> Response:
            if state is not None:
                values["state"] = state
            return RedirectResponse(with_query(redirect_uri, values), status_code=302)

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method", "S256") != "S256":
            return back(error="invalid_request")
        if params.get("deny") in ("1", "true", "yes"):
            return back(error="access_denied")
        user_id = params.get("login") or DEMO_USER
        if user_id not in sim.users:
            return back(error="access_denied")
        code = AuthCode(
            code=secrets.token_urlsafe(32),
            client_id=app.client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=tuple(params.get("scope", "").split()),
            code_challenge=challenge,
            expires_at=sim.now() + CODE_TTL_SECONDS,
        )
        sim.tokens.issue_code(code)
        return back(code=code.code)

    async def token(request: Request) -> Response:
        sim.stats.requests["POST /api/token"] += 1
        await faults.delay(sim)
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        grant = fields.get("grant_type", "")
        if grant in ("authorization_code", "refresh_token"):
            sim.stats.token_requests[grant] += 1
        try:
            client_id, authenticated = client_of(sim, request, fields)
            if grant == "authorization_code":
                body = exchange_code(sim, client_id, authenticated, fields)
            elif grant == "refresh_token":
                body = refresh(sim, client_id, authenticated, fields)
            elif not grant:
                raise TokenRefused("invalid_request", "grant_type parameter is missing")
            else:
                raise TokenRefused("unsupported_grant_type", f"grant_type {grant} is not supported")
        except TokenRefused as exc:
            return oauth_error(exc.status, exc.error, exc.description)
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return [
        Route("/authorize", authorize, methods=["GET"]),
        Route("/api/token", token, methods=["POST"]),
    ]


def client_of(sim: SimulatorState, request: Request, fields: dict[str, str]) -> tuple[str, bool]:
    """The calling client id, and whether it proved its secret (Basic auth or form)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise TokenRefused("invalid_client", "Invalid client", 401) from None
        client_id, _, secret = decoded.partition(":")
        app = sim.apps.get(client_id)
        if app is None or not hmac.compare_digest(app.client_secret, secret):
            raise TokenRefused("invalid_client", "Invalid client", 401)
        return client_id, True
    client_id = fields.get("client_id", "")
    app = sim.apps.get(client_id)
    if app is None:
        raise TokenRefused("invalid_client", "Invalid client")
    form_secret = fields.get("client_secret")
    if form_secret is not None:
        if not hmac.compare_digest(app.client_secret, form_secret):
            raise TokenRefused("invalid_client", "Invalid client secret")
        return client_id, True
    return client_id, False


def exchange_code(
    sim: SimulatorState, client_id: str, authenticated: bool, fields: dict[str, str]
) -> dict[str, object]:
    tokens: TokenStore = sim.tokens
    now = sim.now()
    code = tokens.take_code(fields.get("code", ""), now)
    if code.client_id != client_id:
        raise TokenRefused("invalid_grant", "Invalid authorization code")
    if fields.get("redirect_uri") != code.redirect_uri:
        raise TokenRefused("invalid_grant", "Invalid redirect URI")
    verifier = fields.get("code_verifier")
    pkce = not authenticated
    if code.code_challenge is not None and (verifier is not None or pkce):
        if verifier is None or not hmac.compare_digest(s256(verifier), code.code_challenge):
            raise TokenRefused("invalid_grant", "code_verifier was incorrect")
    elif pkce:
        raise TokenRefused(
            "invalid_client", "Invalid client: a secret or code_verifier is required"
        )
    ttl = sim.config.token_ttl_seconds
    access, refresh_token = tokens.issue(
        user_id=code.user_id, client_id=client_id, scopes=code.scopes, pkce=pkce, ttl=ttl, now=now
    )
    return token_body(access.token, code.scopes, ttl, refresh_token.token)


def refresh(
    sim: SimulatorState, client_id: str, authenticated: bool, fields: dict[str, str]
) -> dict[str, object]:
    raw = fields.get("refresh_token")
    if not raw:
        raise TokenRefused("invalid_request", "refresh_token must be supplied")
    found = sim.tokens.use_refresh(raw, client_id)
    if not found.pkce and not authenticated:
        raise TokenRefused("invalid_client", "Invalid client: a client secret is required")
    now, ttl = sim.now(), sim.config.token_ttl_seconds
    if found.pkce:
        # PKCE refresh tokens rotate: the presented one is spent, a new one is issued.
        found.used = True
        access, rotated = sim.tokens.issue(
            user_id=found.user_id,
            client_id=client_id,
            scopes=found.scopes,
            pkce=True,
            ttl=ttl,
            now=now,
        )
        return token_body(access.token, found.scopes, ttl, rotated.token)
    access = sim.tokens.new_access(found.user_id, client_id, found.scopes, ttl, now)
    return token_body(access.token, found.scopes, ttl, None)

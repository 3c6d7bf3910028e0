"""The auth doors: where a credential is read, and the access rule each route declares.

Every route declares exactly one rule through its dependencies, so the rule table
can be read off the app (see :func:`route_table`):

- ``Depends(requires(Permission.X))``: an authenticated principal holding X;
- ``Depends(authenticated)``: any authenticated principal (``/v1/me``, logout);
- ``Depends(public)``: no credentials (logging in, health).
- ``Depends(local_or(Permission.X))``: a caller on this machine, or a principal holding
  X (``/metrics``: a local Prometheus scrapes it without a key).

Routes that cannot carry a dependency (mounts) declare theirs with :func:`declare_rule`,
on the route object itself; FastAPI's documentation pages are public. GraphQL over
HTTP authenticates with :func:`authenticate_connection` and checks with
``require_permission``; the WebSockets (``realtime``) read the secret with
:func:`credential_from` and look it up themselves.

Failed sign-ins: every lookup of a credential, at every door (here, the session
sign-in, the WebSockets), runs inside ``throttle.authentication_attempt``, so a client
address that failed too often is refused (429) before its credential is looked at.

CSRF: a state-changing request (any method but GET, HEAD, OPTIONS) authenticated by the
dashboard's session cookie must carry the session's CSRF token in ``X-CSRF-Token``
(``GET /v1/session`` hands it to the page). The check sits in
:func:`authenticate_connection`, so every door that authenticates a request (REST,
GraphQL over HTTP) applies it; a ``Bearer`` header is not sent by browsers on their own
and needs none.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Depends, FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.types import ASGIApp

from tunedeck.accounts import service
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission, Principal, require_permission
from tunedeck.accounts.throttle import authentication_attempt
from tunedeck.kit.addresses import peer_address
from tunedeck.kit.db import get_database
from tunedeck.kit.deps import settings_of
from tunedeck.kit.errors import ErrorDetails, Forbidden, Unauthorized
from tunedeck.kit.json_body import JsonBodyRequest
from tunedeck.kit.unit_of_work import UnitsDep

SESSION_COOKIE = "tunedeck_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# WebSockets cannot send headers from a browser, and the overlay URL carries its token.
QUERY_TOKEN = "token"
RULE_ATTRIBUTE = "__tunedeck_access_rule__"


@dataclass(frozen=True, slots=True)
class AccessRule:
    """What a route demands: nothing (public), any principal, or one permission."""

    public: bool = False
    permission: Permission | None = None
    # Also served without credentials to a caller on this machine (``is_local_caller``).
    local: bool = False

    def __str__(self) -> str:
        if self.public:
            return "public"
        needed = self.permission.value if self.permission else "authenticated"
        return f"{needed} or local" if self.local else needed


PUBLIC = AccessRule(public=True)
AUTHENTICATED = AccessRule()


def credential_from(conn: HTTPConnection) -> str | None:
    """The bearer secret of a request or WebSocket handshake, if any.

    ``Authorization: Bearer`` first, then the dashboard session cookie, then (WebSocket
    handshakes only) a ``?token=`` query parameter.
    """
    header = conn.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <key>'")
        return value.strip()
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    if conn.scope["type"] == "websocket":
        return conn.query_params.get(QUERY_TOKEN) or None
    return None


async def authenticate_connection(conn: HTTPConnection) -> Principal:
    """The principal of a request or WebSocket handshake; ``Unauthorized`` if there is none.

    Authentication is its own short unit of work (the lookup and the key's last-use
    stamp), committed here: a request that then waits on Spotify, or a socket that lives
    for hours, holds no transaction and no pooled connection because it authenticated.
    A client address that failed too often is refused first (``throttle``: 429).
    """
    secret = credential_from(conn)
    if secret is None:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <key>'")
    async with authentication_attempt(conn), get_database(conn).session() as session:
        principal = await service.authenticate(session, secret, session_times=session_times(conn))
    check_csrf(conn, secret)
    # Cached for this connection, so GraphQL / WebSocket code can reuse it.
    conn.state.principal = principal
    return principal


def session_times(conn: HTTPConnection) -> service.SessionTimes:
    """The idle timeout and lifetime of dashboard sessions, from the app's settings."""
    settings = settings_of(conn)
    return service.SessionTimes(
        idle=timedelta(seconds=settings.session_idle_seconds),
        lifetime=timedelta(seconds=settings.session_ttl_seconds),
    )


def came_with_cookie(conn: HTTPConnection, secret: str) -> bool:
    """Whether ``secret`` is the session cookie the browser attached by itself."""
    return "authorization" not in conn.headers and conn.cookies.get(SESSION_COOKIE) == secret


def check_csrf(conn: HTTPConnection, secret: str) -> None:
    """Refuse a state-changing request made with the session cookie but without the
    session's CSRF token (a page of another site could have sent it)."""
    if conn.scope["type"] != "http" or conn.scope.get("method", "GET") in SAFE_METHODS:
        return
    if not came_with_cookie(conn, secret):
        return
    if not service.csrf_token_matches(secret, conn.headers.get(CSRF_HEADER)):
        raise Forbidden(
            f"this request came with the dashboard's session cookie but without its "
            f"{CSRF_HEADER} header",
            code="csrf_failed",
            details=ErrorDetails(hint="reload the dashboard; scripts send 'Authorization: Bearer'"),
        )


async def _principal(conn: HTTPConnection) -> Principal:
    cached: Principal | None = getattr(conn.state, "principal", None)
    return cached if cached is not None else await authenticate_connection(conn)


async def authenticated(conn: HTTPConnection) -> Principal:
    """Dependency: any API key or dashboard session of any permissions (no overlay token)."""
    principal = await _principal(conn)
    require_permission(principal, None)
    return principal


async def public() -> None:
    """Dependency: the route needs no credentials (declared, so the rule table is complete)."""


setattr(authenticated, RULE_ATTRIBUTE, AUTHENTICATED)
setattr(public, RULE_ATTRIBUTE, PUBLIC)


# A memo, not state: the dependency made for a permission depends on nothing else (it
# reads the rest from the connection, hence from the app serving it), and one callable
# per permission lets FastAPI run it once per request however many parameters use it.
@functools.cache
def requires(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the principal, if it holds ``permission`` (else 401 / 403)."""

    async def dependency(conn: HTTPConnection) -> Principal:
        principal = await _principal(conn)
        require_permission(principal, permission)
        return principal

    dependency.__name__ = f"requires_{permission.name.lower()}"
    setattr(dependency, RULE_ATTRIBUTE, AccessRule(permission=permission))
    return dependency


# Headers a proxy adds: a request carrying one came through a proxy, whatever its peer.
FORWARDING_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-real-ip",
    "x-forwarded-host",
    "cf-connecting-ip",
    "true-client-ip",
)


def is_local_caller(conn: HTTPConnection) -> bool:
    """Whether the caller is on this machine: the connection's peer is a loopback
    address and the request carries no forwarding header.

    A reverse proxy on this machine connects from loopback on behalf of outside callers;
    it names them in ``X-Forwarded-For`` / ``Forwarded``, so such a request is never
    taken for a local one (nor is an outside caller that sends those headers itself:
    its peer address is not loopback). A forwarder that names nobody (a bare TCP
    tunnel, a proxy left at its defaults) cannot be told apart from a local caller:
    ``TUNEDECK_TRUST_LOOPBACK=false`` then turns the local rule off."""
    if not settings_of(conn).trust_loopback:
        return False
    address = peer_address(conn.scope)
    if address is None:
        return False
    return address.is_loopback and not any(name in conn.headers for name in FORWARDING_HEADERS)


@functools.cache
def local_or(permission: Permission) -> Callable[..., Awaitable[Principal | None]]:
    """Dependency factory: nothing to show for a local caller (``is_local_caller``),
    else the principal if it holds ``permission`` (401 / 403)."""

    async def dependency(conn: HTTPConnection) -> Principal | None:
        if is_local_caller(conn):
            return None
        principal = await _principal(conn)
        require_permission(principal, permission)
        return principal

    dependency.__name__ = f"local_or_{permission.name.lower()}"
    setattr(dependency, RULE_ATTRIBUTE, AccessRule(permission=permission, local=True))
    return dependency


class GuardedRoute(APIRoute):
    """The route class of every TuneDeck router: the caller is authenticated (and its
    permission checked) before the body is read, then a JSON body is read strictly.

    FastAPI reads and parses the body before it runs any dependency, so a caller without
    credentials sending a malformed body would learn about the body (400) rather than
    about itself (401). Here the route's declared rule runs first; the principal it finds
    is the one the route's own dependency then uses (cached on the connection: one
    authentication per request). A JSON body is then decoded by
    ``kit.json_body.decode_json`` (415 for another media type, 400 naming what is wrong).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        rules = set(_rules_in(self.dependant))
        guarded = bool(rules) and not any(rule.public for rule in rules)
        takes_json = self.body_field is not None and not isinstance(
            self.body_field.field_info, params.Form
        )

        async def guarded_handler(request: Request) -> Response:
            request = JsonBodyRequest(request.scope, request.receive)
            # A local rule (``local_or``) serves a caller on this machine without
            # credentials: its own dependency decides, as it does for the rest.
            local = any(rule.local for rule in rules) and is_local_caller(request)
            if guarded and not local:
                principal = await _principal(request)
                for rule in rules:
                    require_permission(principal, rule.permission)
            if takes_json and await request.body():
                await request.json()
            return await handle(request)

        return guarded_handler


def call_context(permission: Permission | None) -> Any:
    """Dependency (``Annotated[CallContext, call_context(...)]``): the context of one call
    by a principal holding ``permission`` (``None``: any key or session), with the app's
    units of work. The route's rule is the one ``requires`` / ``authenticated``
    declares; the operation checks the permission again, itself."""
    guard = authenticated if permission is None else requires(permission)

    async def dependency(
        units: UnitsDep,
        # A default, not Annotated: the closure's ``guard`` is not visible to the
        # string annotations FastAPI resolves.
        principal: Principal = Depends(guard),
    ) -> CallContext:
        return CallContext(principal, units)

    return Depends(dependency)


def declare_rule(route: BaseRoute, rule: AccessRule) -> None:
    """Declare the rule of a route that has no dependencies (a mount, a plain route).

    The rule is kept on the route object itself, so it belongs to the app serving it.
    """
    setattr(route, RULE_ATTRIBUTE, rule)


def mount_public(app: FastAPI, path: str, asgi_app: ASGIApp, name: str | None = None) -> None:
    """Serve ``asgi_app`` under ``path``, public (static files, the demo's simulator)."""
    mount = Mount(path, app=asgi_app, name=name)
    declare_rule(mount, PUBLIC)
    app.router.routes.append(mount)


def _framework_pages(app: FastAPI) -> set[str]:
    """FastAPI's own documentation pages, public wherever this app serves them."""
    pages = (app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url)
    return {page for page in pages if page}


def _rules_in(dependant: Dependant) -> Iterator[AccessRule]:
    rule = getattr(dependant.call, RULE_ATTRIBUTE, None)
    if isinstance(rule, AccessRule):
        yield rule
    for sub in dependant.dependencies:
        yield from _rules_in(sub)


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One route of the app (included routers flattened) and the rules it declares."""

    path: str
    methods: frozenset[str]  # {"WEBSOCKET"} for WebSocket routes, empty for mounts
    rules: frozenset[AccessRule]
    path_params: tuple[str, ...]

    @property
    def is_http(self) -> bool:
        return bool(self.methods) and "WEBSOCKET" not in self.methods

    def __str__(self) -> str:
        return f"{','.join(sorted(self.methods)) or 'MOUNT'} {self.path}"


def route_table(app: FastAPI) -> list[RouteEntry]:
    """Every route of ``app`` with its declared access rules (the permission matrix reads it)."""
    table = []
    framework_pages = _framework_pages(app)
    for context in iter_route_contexts(app.routes):
        path = context.path_format or context.path or ""
        dependant: Dependant | None = getattr(context, "dependant", None)
        rules = set(_rules_in(dependant)) if dependant is not None else set()
        declared = getattr(context.original_route, RULE_ATTRIBUTE, None)
        if not rules and isinstance(declared, AccessRule):
            rules = {declared}
        elif not rules and path in framework_pages:
            rules = {PUBLIC}
        if isinstance(context.original_route, APIWebSocketRoute | WebSocketRoute):
            methods = frozenset({"WEBSOCKET"})
        else:
            methods = frozenset((context.methods or set()) - {"HEAD"})
        params = tuple(p.name for p in dependant.path_params) if dependant is not None else ()
        table.append(RouteEntry(path, methods, frozenset(rules), params))
    return table

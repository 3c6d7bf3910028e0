"""What keeps the simulator from being driven by a page of another site.

The demo serves the simulator on TuneDeck's own origin (``/spotify-sim``), so any page
a streamer opens can send it requests. A browser lets a page of another site send,
without asking first (no CORS preflight), only bodies a form could send
(``text/plain``, form-encoded, multipart) and requests carrying no header of its own;
so:

- :class:`BodyMediaTypes`: a request body is JSON (415 otherwise), as Spotify's Web API
  takes, except on the token endpoint (``/api/token``), which takes the form-encoded
  body Spotify's does;
- :func:`cross_site`: the control API (``/_sim``) refuses a state-changing request that
  a page of another origin sent (its ``Origin`` names that page), bodiless ones too;
- :func:`is_loopback_caller`: ``POST /_sim/tokens`` mints tokens for callers on this
  machine only (a loopback peer, no proxy's forwarding header).

The Web API itself needs a bearer token, which no page of another site can send
without a preflight; ``/authorize`` redirects only to an app's registered URIs
(``oauth.redirect_allowed``).
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from tunedeck.simulator.errors import SpotifyError, json_response

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
TOKEN_PATH = "/api/token"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Headers a proxy adds: a request carrying one came through a proxy, whatever its peer.
FORWARDING_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-real-ip",
    "x-forwarded-host",
    "cf-connecting-ip",
    "true-client-ip",
)


def media_type(headers: Headers) -> str:
    """The request's media type, without parameters (``application/json``)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def has_body(headers: Headers) -> bool:
    """Whether the request carries a body: a length above zero, or a chunked one."""
    if "transfer-encoding" in headers:
        return True
    try:
        return int(headers.get("content-length", "0")) > 0
    except ValueError:
        return True


class BodyMediaTypes:
    """ASGI middleware: a request body must be JSON (form-encoded on ``/api/token``),
    else 415 in the shape of the endpoint's errors, before the route reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not has_body(headers):
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])[len(str(scope.get("root_path", ""))) :]
        expected = FORM if path == TOKEN_PATH else JSON
        if media_type(headers) == expected:
            await self.app(scope, receive, send)
            return
        message = f"Unsupported Content-Type: the body must be {expected}"
        if expected == FORM:  # the accounts service answers OAuth errors
            response = json_response(
                {"error": "invalid_request", "error_description": message}, 415
            )
        else:
            response = SpotifyError(415, message).response()
        await response(scope, receive, send)


def cross_site(request: Request) -> bool:
    """Whether a state-changing request was sent by a page of another origin than the
    simulator's (a browser names the page in ``Origin``; tests and scripts send none)."""
    if request.method in _SAFE_METHODS:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site") in ("cross-site", "same-site")
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    return origin.strip().rstrip("/").lower() != own


def is_loopback_caller(request: Request) -> bool:
    """Whether the caller is on this machine: a loopback peer, through no proxy."""
    client = request.scope.get("client")
    if not client or any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback

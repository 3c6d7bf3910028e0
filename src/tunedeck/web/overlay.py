"""The Now Playing overlay (``GET /overlay``, OBS's browser source) and its builder
(``GET /overlay/builder``): pages from ``web/overlay/`` whose ES modules (theirs and the
shared core's) are served, versioned, by ``web/assets.py``; and the album-art proxy the
overlay reads colours through (``GET /overlay/art?url=``).

The overlay's token and options travel in the URL fragment, which browsers never send:
these routes see neither. Pages go out with ``Referrer-Policy: no-referrer`` and a
Content-Security-Policy that lets them load their own scripts and styles, talk to this
origin only (the live feed included), and show images from this origin and the album-art
hosts only.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from tunedeck.accounts.auth import GuardedRoute, public, requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.config import SPOTIFY_API_URL, Settings
from tunedeck.kit.deps import HttpClientDep, SettingsDep
from tunedeck.kit.errors import BadRequest
from tunedeck.web.assets import STATIC, WEB_DIR

# Where Spotify serves cover art (https only); the simulator's origin is added when the
# Spotify API URL points at one.
SPOTIFY_ART_SOURCES = ("https://i.scdn.co", "https://*.scdn.co", "https://*.spotifycdn.com")
SPOTIFY_ART_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*(?:scdn\.co|spotifycdn\.com)$")
ART_MAX_BYTES = 2 * 1024 * 1024
ART_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")
OVERLAY_DIR = WEB_DIR / "overlay"
OVERLAY_PAGE = STATIC.render((OVERLAY_DIR / "overlay.html").read_text(encoding="utf-8"))
BUILDER_PAGE = STATIC.render((OVERLAY_DIR / "builder.html").read_text(encoding="utf-8"))

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)


def simulator_origin(settings: Settings) -> str | None:
    """The origin of a Spotify stand-in (the simulator), whose covers it serves itself."""
    if settings.spotify_api_url.rstrip("/") == SPOTIFY_API_URL.rstrip("/"):
        return None
    parts = urlsplit(settings.spotify_api_url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else None


def art_sources(settings: Settings) -> list[str]:
    """Where album art may be loaded from, as CSP sources."""
    sim = simulator_origin(settings)
    return [*SPOTIFY_ART_SOURCES, *([sim] if sim else [])]


def _socket_sources(request: Request) -> list[str]:
    # 'self' covers ws(s): in CSP 3; the explicit origin is for browsers that predate it.
    host = request.headers.get("host", "")
    if not SAFE_HOST.match(host):
        return []
    return [f"ws://{host}", f"wss://{host}"]


def content_security_policy(request: Request, settings: Settings, *, frames: bool) -> str:
    images = " ".join(["'self'", "blob:", *art_sources(settings)])
    connect = " ".join(["'self'", *_socket_sources(request)])
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'none'",
        # The builder shows the overlay in a frame; nothing else may frame either page.
        "frame-ancestors 'self'",
        *(["frame-src 'self'"] if frames else []),
    ]
    return "; ".join(directives)


def _html(request: Request, settings: Settings, body: str, *, frames: bool) -> HTMLResponse:
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": content_security_policy(request, settings, frames=frames),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/overlay", dependencies=[Depends(public)])
async def overlay_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The Now Playing overlay for OBS's browser source (token and options in the fragment)."""
    return _html(request, settings, OVERLAY_PAGE, frames=False)


@router.get("/overlay/builder", dependencies=[Depends(public)])
async def builder_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The overlay builder: tokens, options, live preview, the URL to paste into OBS."""
    return _html(request, settings, BUILDER_PAGE, frames=True)


def art_allowed(url: str, settings: Settings) -> bool:
    """Whether the proxy may fetch ``url``: Spotify's image hosts over https, or the
    simulator's own origin."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.username or parts.password:
        return False
    if parts.scheme == "https" and SPOTIFY_ART_HOST.match(host) and parts.port in (None, 443):
        return True
    sim = simulator_origin(settings)
    return sim is not None and f"{parts.scheme}://{parts.netloc}".lower() == sim


@router.get("/overlay/art")
async def overlay_art(
    settings: SettingsDep,
    http: HttpClientDep,
    url: str = Query(max_length=2048),
    _principal: Principal = Depends(requires(Permission.OVERLAY_READ)),
) -> Response:
    """An album cover fetched from its host and served from TuneDeck's origin, so the
    overlay may read its pixels (the accent colour) whatever CORS headers the host sends.
    Only Spotify's image hosts (and the simulator), only images, at most 2 MiB."""
    if not art_allowed(url, settings):
        raise BadRequest("url: not an album-art URL of Spotify's image hosts", code="bad_art_url")
    try:
        async with http.stream("GET", url, timeout=ART_TIMEOUT, follow_redirects=False) as answer:
            media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
            if answer.status_code != 200 or not media_type.startswith("image/"):
                return _art_failed(f"the image host answered {answer.status_code}")
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > ART_MAX_BYTES:
                    return _art_failed("the image is too large")
    except httpx.HTTPError:
        return _art_failed("the image host did not answer")
    return Response(
        bytes(body),
        media_type=media_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            # An SVG cover opened directly runs nothing.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        },
    )


def _art_failed(reason: str) -> Response:
    return Response(reason, status_code=502, media_type="text/plain")

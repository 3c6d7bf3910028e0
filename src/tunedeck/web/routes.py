"""Pages served by TuneDeck itself: the dashboard at ``/`` and its static files.

The dashboard is static HTML, CSS and JavaScript modules under ``web/dashboard/`` (no
build step, no Node): the page signs in with ``POST /v1/session`` and then speaks only
to TuneDeck's own API and live feed. Files are read once, at import, and served with an
ETag (and gzipped when the browser accepts it); nothing outside that folder is reachable.
The OAuth callback lands on ``/?connected=spotify``: the page shows it in its notice.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from html import escape
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from tunedeck.accounts.auth import GuardedRoute, public
from tunedeck.kit.errors import NotFound
from tunedeck.web.headers import content_security_policy, page_headers

DASHBOARD_DIR = Path(__file__).parent / "dashboard"
ASSETS_PATH = "/dashboard"
CONNECTED_NOTICE = "Spotify is connected."
NOTICE_SLOT = '<p id="notice" class="notice" role="status" hidden></p>'
# Album art comes from Spotify's image hosts (any https host, and the simulator's own
# origin); everything else, scripts and styles included, from TuneDeck's origin only.
CONTENT_SECURITY_POLICY = content_security_policy(img_src="'self' https: http: data:")
PAGE_HEADERS = page_headers(CONTENT_SECURITY_POLICY)
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".svg": "image/svg+xml"}
_COMPRESSIBLE = (".js", ".css", ".svg", ".html", ".json", ".txt")


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file: its bytes (and gzipped bytes for text), type and ETag."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def _load_assets(root: Path) -> dict[str, Asset]:
    assets: dict[str, Asset] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        body = path.read_bytes()
        media_type = _TYPES.get(path.suffix) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        if media_type.startswith("text/") or media_type.endswith(("+xml", "json")):
            media_type += "; charset=utf-8"
        compressed = gzip.compress(body, 9, mtime=0) if path.suffix in _COMPRESSIBLE else None
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        assets[path.relative_to(root).as_posix()] = Asset(body, compressed, media_type, etag)
    return assets


ASSETS = _load_assets(DASHBOARD_DIR)
INDEX = ASSETS["index.html"].body.decode()

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(public)])
async def dashboard(request: Request) -> Response:
    """The dashboard; where the OAuth callback lands (``?connected=spotify``)."""
    page = INDEX
    if request.query_params.get("connected") == "spotify":
        shown = NOTICE_SLOT.replace(" hidden>", f">{escape(CONNECTED_NOTICE)}")
        page = page.replace(NOTICE_SLOT, shown)
    return _send(request, page.encode(), "text/html; charset=utf-8", None)


@router.get(ASSETS_PATH + "/{path:path}", dependencies=[Depends(public)])
async def dashboard_asset(path: str, request: Request) -> Response:
    """A file of the dashboard (scripts, styles, icons)."""
    asset = ASSETS.get(path)
    if asset is None or path == "index.html":
        raise NotFound(f"no dashboard file {path!r}")
    return _send(request, asset.body, asset.media_type, asset)


def _send(request: Request, body: bytes, media_type: str, asset: Asset | None) -> Response:
    headers = dict(PAGE_HEADERS)
    if asset is not None:
        headers["ETag"] = asset.etag
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
    headers["Vary"] = "Accept-Encoding"
    gzipped = asset.gzipped if asset is not None else gzip.compress(body, 6)
    if gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(gzipped, media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)

"""Pages served by TuneDeck itself: the dashboard at ``/``, and every page's static files
(``/static/<version>/...``, see ``web/assets.py``).

The dashboard is static HTML, CSS and JavaScript modules under ``web/dashboard/`` and the
shared core under ``web/core/`` (no build step, no Node): the page signs in with
``POST /v1/session`` and then speaks only to TuneDeck's own API and live feed. The OAuth
callback lands on ``/?connected=spotify``: the page shows it in its notice. The
dashboard's files are also at their unversioned ``/dashboard/<path>`` (revalidated with
their ETag rather than cached for good), for what links to them from outside the pages
(GraphiQL's icon).
"""

from __future__ import annotations

import gzip
from html import escape

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from tunedeck.accounts.auth import GuardedRoute, public
from tunedeck.kit.errors import NotFound
from tunedeck.web.assets import STATIC, STATIC_PATH, WEB_DIR, static_headers
from tunedeck.web.headers import content_security_policy, page_headers

DASHBOARD_DIR = WEB_DIR / "dashboard"
ASSETS_PATH = "/dashboard"
CONNECTED_NOTICE = "Spotify is connected."
NOTICE_SLOT = '<p id="notice" class="notice" role="status" hidden></p>'
# Album art comes from Spotify's image hosts (any https host, and the simulator's own
# origin); everything else, scripts and styles included, from TuneDeck's origin only.
CONTENT_SECURITY_POLICY = content_security_policy(img_src="'self' https: http: data:")
PAGE_HEADERS = page_headers(CONTENT_SECURITY_POLICY)
INDEX = STATIC.render((DASHBOARD_DIR / "index.html").read_text(encoding="utf-8"))
SETUP_PAGE = STATIC.render((WEB_DIR / "setup" / "index.html").read_text(encoding="utf-8"))
# The setup page previews the overlay (this origin) in a frame.
SETUP_HEADERS = page_headers(
    content_security_policy(img_src="'self' https: http: data:", frame_src="'self'")
)

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(public)])
async def dashboard(request: Request) -> Response:
    """The dashboard; where the OAuth callback lands (``?connected=spotify``)."""
    page = INDEX
    if request.query_params.get("connected") == "spotify":
        shown = NOTICE_SLOT.replace(" hidden>", f">{escape(CONNECTED_NOTICE)}")
        page = page.replace(NOTICE_SLOT, shown)
    body = page.encode()
    headers = {**PAGE_HEADERS, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, 6)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/setup", response_class=HTMLResponse, dependencies=[Depends(public)])
async def setup_page() -> Response:
    """The first-run setup page (its one-time code travels in the URL's fragment)."""
    return HTMLResponse(SETUP_PAGE, headers=SETUP_HEADERS)


@router.get(ASSETS_PATH + "/{path:path}", dependencies=[Depends(public)])
async def dashboard_asset(path: str, request: Request) -> Response:
    """A file of the dashboard at its unversioned URL (revalidated with its ETag)."""
    answer = STATIC.send(request, f"dashboard/{path}", PAGE_HEADERS)
    if answer is None:
        raise NotFound(f"no dashboard file {path!r}")
    return answer


@router.get(STATIC_PATH + "/{version}/{path:path}", dependencies=[Depends(public)])
async def static_file(version: str, path: str, request: Request) -> Response:
    """A file of a page (script, stylesheet, icon) at its versioned URL, cached for good.
    Another version's URL is a 404: this process serves its own files only, so a page
    never mixes the modules of two versions."""
    answer = STATIC.send(request, path, static_headers()) if version == STATIC.version else None
    if answer is None:
        raise NotFound(f"no file {path!r} in version {version!r} (reload the page)")
    return answer

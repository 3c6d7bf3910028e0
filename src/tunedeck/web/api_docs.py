"""The REST API's interactive documentation, served with no request leaving TuneDeck.

FastAPI's own ``/docs`` loads Swagger UI and a favicon from CDNs: a streamer's machine
may have no route to them, and a page of ours should not tell a third party who opens
it. The same page is served here with the Swagger UI assets the ``fastapi-offline``
package ships, under ``/docs/assets``, and a Content-Security-Policy that holds it to
them. FastAPI's page starts Swagger UI with an inline script; this one starts it from
a file (``web/swagger/boot.js``), so the policy allows no inline script on the
dashboard's origin. There is no ``/redoc``: ReDoc's page always fetches a logo from
redocly's CDN.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from tunedeck.accounts.auth import GuardedRoute, mount_public, public
from tunedeck.web.headers import content_security_policy, page_headers
from tunedeck.web.openapi import describe_whole_app

DOCS_PATH = "/docs"
BOOT_PATH = "/docs/boot.js"
ASSETS_PATH = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
PAGE_DIR = Path(__file__).parent / "swagger"
# Scripts: the bundle and boot.js, files of this origin. Swagger UI sets style
# attributes as it renders, hence 'unsafe-inline' for styles (never for scripts).
CONTENT_SECURITY_POLICY = content_security_policy(
    style_src="'self' 'unsafe-inline'",
    img_src="'self' data:",
)
PAGE_HEADERS = page_headers(CONTENT_SECURITY_POLICY)


def docs_router(app: FastAPI) -> APIRouter:
    """``/docs``: Swagger UI on ``app``'s OpenAPI description (``/openapi.json``)."""
    if app.openapi_url != "/openapi.json":  # the page names it (web/swagger/index.html)
        raise ValueError(f"the docs page reads /openapi.json, not {app.openapi_url}")
    router = APIRouter(
        dependencies=[Depends(public)], include_in_schema=False, route_class=GuardedRoute
    )

    @router.get(DOCS_PATH)
    async def swagger_ui() -> FileResponse:
        return FileResponse(PAGE_DIR / "index.html", headers=PAGE_HEADERS)

    @router.get(BOOT_PATH)
    async def swagger_boot() -> FileResponse:
        return FileResponse(
            PAGE_DIR / "boot.js", media_type="text/javascript", headers=PAGE_HEADERS
        )

    return router


def install_api_docs(app: FastAPI) -> None:
    """Serve the documentation page and its assets (the app is made with FastAPI's own
    pages off: ``docs_url``, ``redoc_url`` and the OAuth2 redirect), and complete the
    description with what every route shares."""
    describe_whole_app(app)
    mount_public(app, ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), "api-docs-assets")
    app.include_router(docs_router(app))

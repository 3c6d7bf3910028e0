"""The REST API's interactive documentation, served with no request leaving TuneDeck.

FastAPI's own ``/docs`` loads Swagger UI and a favicon from CDNs: a streamer's machine
may have no route to them, and a page of ours should not tell a third party who opens
it. The same page is served here with the Swagger UI assets the ``fastapi-offline``
package ships, under ``/docs/assets``, and a Content-Security-Policy that holds it to
them. There is no ``/redoc``: ReDoc's page always fetches a logo from redocly's CDN.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from tunedeck.accounts.auth import GuardedRoute, mount_public, public
from tunedeck.web.headers import content_security_policy, page_headers
from tunedeck.web.openapi import describe_whole_app

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
# An inline script and styles are how Swagger UI boots. Nothing from another origin.
CONTENT_SECURITY_POLICY = content_security_policy(
    script_src="'self' 'unsafe-inline'",
    style_src="'self' 'unsafe-inline'",
    img_src="'self' data:",
)
PAGE_HEADERS = page_headers(CONTENT_SECURITY_POLICY)


def _page(html: HTMLResponse) -> HTMLResponse:
    html.headers.update(PAGE_HEADERS)
    return html


def docs_router(app: FastAPI) -> APIRouter:
    """``/docs``: Swagger UI on ``app``'s OpenAPI description."""
    router = APIRouter(
        dependencies=[Depends(public)], include_in_schema=False, route_class=GuardedRoute
    )
    openapi_url = app.openapi_url or "/openapi.json"

    @router.get(DOCS_PATH)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=None,  # keys are bearer tokens: no OAuth2 flow to run
                swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
                # The validator badge would send the description to validator.swagger.io.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    return router


def install_api_docs(app: FastAPI) -> None:
    """Serve the documentation page and its assets (the app is made with FastAPI's own
    pages off: ``docs_url``, ``redoc_url`` and the OAuth2 redirect), and complete the
    description with what every route shares."""
    describe_whole_app(app)
    mount_public(app, ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), "api-docs-assets")
    app.include_router(docs_router(app))

"""GraphiQL at ``/graphiql``, on files shipped in the package (``web/graphiql/``).

Strawberry's own GraphiQL page loads React and GraphiQL from unpkg.com and, served on
``/graphql`` behind its authentication, answers a browser that is not signed in with
a 401 it cannot get past. Here the page is public and static, its scripts are the same
versions vendored under ``graphiql/assets/vendor/`` (see the README there), and it talks to
``/graphql`` with the dashboard's session when the browser has one (its CSRF token from
``GET /v1/session``) or with the key put in its Headers tab. A browser opening
``/graphql`` itself is sent here. Served only while introspection is on: without the
schema GraphiQL can do nothing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tunedeck.accounts.auth import GuardedRoute, mount_public, public
from tunedeck.kit.deps import settings_of
from tunedeck.kit.errors import BadRequest, NotFound
from tunedeck.web.headers import content_security_policy, page_headers

GRAPHIQL_DIR = Path(__file__).parent / "graphiql"
PAGE_PATH = "/graphiql"
ASSETS_PATH = "/graphiql/assets"
GRAPHQL_PATH = "/graphql"
# React sets style attributes, hence 'unsafe-inline' for styles; scripts are files only.
CONTENT_SECURITY_POLICY = content_security_policy(
    style_src="'self' 'unsafe-inline'",
    img_src="'self' data:",
    font_src="'self' data:",
    form_action="'none'",
)
PAGE_HEADERS = page_headers(CONTENT_SECURITY_POLICY)


def _introspection_on(request: Request) -> bool:
    return settings_of(request).graphql_introspection


def graphiql_router() -> APIRouter:
    router = APIRouter(
        dependencies=[Depends(public)], include_in_schema=False, route_class=GuardedRoute
    )

    @router.get(PAGE_PATH)
    async def graphiql_page(request: Request) -> Response:
        if not _introspection_on(request):
            raise NotFound("GraphiQL is off: schema introspection is turned off.")
        return FileResponse(GRAPHIQL_DIR / "index.html", headers=PAGE_HEADERS)

    @router.get(GRAPHQL_PATH)
    async def graphql_get(request: Request) -> Response:
        """A browser opening /graphql gets GraphiQL; a GET query is refused (POST it)."""
        if "text/html" in request.headers.get("accept", "") and _introspection_on(request):
            return RedirectResponse(PAGE_PATH, status_code=303)
        raise BadRequest(
            "Send GraphQL operations with POST (GET is not accepted); "
            f"in a browser, GraphiQL is at {PAGE_PATH}.",
            code="method_not_allowed",
            status=405,
            headers={"Allow": "POST"},
        )

    return router


def install_graphiql(app: FastAPI) -> None:
    """Serve GraphiQL and its files; before the GraphQL router, whose GET this answers."""
    # boot.js, graphiql.css and vendor/<package>@<version>/; the page itself is not among
    # them (it is served with its headers by the route above).
    assets = StaticFiles(directory=GRAPHIQL_DIR / "assets")
    mount_public(app, ASSETS_PATH, assets, "graphiql-assets")
    app.include_router(graphiql_router())

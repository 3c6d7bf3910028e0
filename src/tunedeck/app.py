"""The TuneDeck web application: ``create_app()``.

The app is made with its settings and its metrics (``tunedeck.ops.app``: the request
middleware counts with them from the first request on). Its lifespan builds the
process's runtime (``tunedeck.runtime.build_runtime``, as ``tunedeck worker`` does) and
attaches it to the app while it runs (``tunedeck.kit.deps``, through which every door
reads it). Migrations are not run here: ``tunedeck serve`` / ``demo`` call
``prepare_storage`` first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from tunedeck import __version__
from tunedeck.accounts.auth import mount_public
from tunedeck.accounts.rest import router as accounts_router
from tunedeck.chat.rest import router as chat_router
from tunedeck.config import Settings, get_settings
from tunedeck.connections.rest import router as connections_router
from tunedeck.doctor.rest import router as doctor_router
from tunedeck.history.graphql import HistoryMutation, HistoryQuery
from tunedeck.history.rest import router as history_router
from tunedeck.kit.body_limit import BodySizeLimit
from tunedeck.kit.crypto import ensure_key_file
from tunedeck.kit.deps import attach_settings, attached
from tunedeck.kit.errors import TuneDeckAPI, install_error_handlers
from tunedeck.kit.files import private_data_dir
from tunedeck.kit.hosts import AllowedHosts, HostCheck
from tunedeck.migrations.apply import upgrade_database
from tunedeck.ops.app import install_operations, observe_requests
from tunedeck.player.app import install_player
from tunedeck.queue_page.rest import public_router as queue_page_public_router
from tunedeck.queue_page.rest import router as queue_page_router
from tunedeck.realtime.feed import router as live_router
from tunedeck.realtime.graphql import GraphQLSocket, Subscription
from tunedeck.requests.graphql.schema import RequestsMutation, RequestsQuery
from tunedeck.requests.rest import router as requests_router
from tunedeck.runtime import build_runtime
from tunedeck.setup.rest import router as setup_router
from tunedeck.web.api_docs import install_api_docs
from tunedeck.web.graphiql import install_graphiql
from tunedeck.web.overlay import router as overlay_router
from tunedeck.web.routes import router as web_router


async def prepare_storage(settings: Settings, *, create_key_file: bool = False) -> None:
    """Before serving: apply migrations; for the demo, create the key file if none is configured."""
    private_data_dir(settings.data_dir)
    if create_key_file:
        ensure_key_file(settings.encryption_keys, settings.data_dir)
    await upgrade_database(settings.resolved_database_url)


def create_app(
    settings: Settings | None = None, *, mounts: Mapping[str, ASGIApp] | None = None
) -> FastAPI:
    """The TuneDeck app. ``mounts`` adds public ASGI apps under path prefixes (the demo
    serves the Spotify simulator this way, on the same port)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        poll = settings.poll_in_process
        async with build_runtime(settings, serve=True, poll=poll, metrics=metrics) as runtime:
            with attached(app, runtime):
                yield

    # /docs is served by web.api_docs (no asset from a CDN); there is no /redoc.
    app = TuneDeckAPI(
        title="TuneDeck",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    attach_settings(app, settings)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outside the body limit: a request to a name TuneDeck is not served as is refused unread.
    app.add_middleware(HostCheck, hosts=AllowedHosts.of(settings))
    # The player's doors first: routes are tried in order (each miss costs a path match),
    # and theirs are the calls made most; no other router's paths overlap theirs.
    install_graphiql(app)  # before the player's GraphQL router: it answers GET /graphql
    install_player(
        app,
        settings,
        subscription=Subscription,
        sockets=GraphQLSocket,
        queries=(RequestsQuery, HistoryQuery),
        mutations=(RequestsMutation, HistoryMutation),
    )
    app.include_router(accounts_router)
    app.include_router(connections_router)
    app.include_router(setup_router)
    app.include_router(doctor_router)
    app.include_router(chat_router)
    app.include_router(history_router)
    app.include_router(web_router)
    app.include_router(overlay_router)
    app.include_router(requests_router)
    app.include_router(queue_page_router)
    app.include_router(queue_page_public_router)
    app.include_router(live_router)
    install_api_docs(app)
    # ---- operations: /metrics, /healthz, /readyz; the request middleware last (outermost) ----
    metrics = install_operations(app)
    for prefix, sub_app in (mounts or {}).items():
        mount_public(app, prefix, sub_app)
    observe_requests(app, settings, metrics)
    return app

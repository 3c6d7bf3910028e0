"""Putting the operator's side on a process: the app's, or a worker's own small server.

:func:`install_operations` adds ``/metrics``, ``/healthz`` and ``/readyz`` to the app
and their pieces to ``app.state`` (``metrics``, ``readiness``); :func:`observe_requests`
adds the request middleware (``kit.observe``), last, so it is the outermost.

A worker serves no API: with ``TUNEDECK_WORKER_METRICS_PORT`` set,
:func:`worker_endpoints` runs the same three routes on that port (on
``TUNEDECK_HOST``, loopback by default) for as long as the worker runs, to the same
hosts as the app (``kit.hosts``: the loopback names on that port among them); unset,
the worker has no HTTP at all and logs are its only output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from tunedeck.config import Settings
from tunedeck.kit.errors import TuneDeckAPI, install_error_handlers
from tunedeck.kit.hosts import AllowedHosts, HostCheck
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.observe import ObserveRequests
from tunedeck.ops.readiness import Readiness
from tunedeck.ops.rest import router
from tunedeck.ops.samplers import sample_pieces

logger = logging.getLogger(__name__)


def install_operations(app: FastAPI) -> Metrics:
    """The routes, and ``app.state.metrics`` / ``app.state.readiness`` (the metrics the
    process's pieces are built with by the lifespan, ``runtime.process_pieces``)."""
    metrics = app.state.metrics = Metrics()
    readiness = app.state.readiness = Readiness(app.state)
    sample_pieces(metrics, app.state)
    metrics.before_scrape(readiness.scrape_probe)
    app.include_router(router)
    return metrics


def observe_requests(app: FastAPI, settings: Settings) -> None:
    """Request ids, HTTP metrics and the access log: call after every other middleware."""
    app.add_middleware(ObserveRequests, metrics=app.state.metrics, access=settings.access_log)


def operations_app(state: Any) -> FastAPI:
    """The three routes alone, on an existing process's pieces (a worker's ``state``);
    errors answered as the API's are (the standard body, the connection kept)."""
    app = TuneDeckAPI(docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    app.state = state
    state.readiness = readiness = Readiness(state)
    sample_pieces(state.metrics, state)
    state.metrics.before_scrape(readiness.scrape_probe)
    app.include_router(router)
    settings: Settings = state.settings
    hosts = AllowedHosts.of(settings, listening_port=settings.worker_metrics_port)
    app.add_middleware(HostCheck, hosts=hosts)
    observe_requests(app, settings)
    return app


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside a process that handles its own signals (the worker)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def worker_endpoints(state: Any) -> AsyncIterator[None]:
    """Serve :func:`operations_app` on ``worker_metrics_port`` for the block (a no-op
    when the port is not set)."""
    settings: Settings = state.settings
    port = settings.worker_metrics_port
    if port is None:
        yield
        return
    config = uvicorn.Config(
        operations_app(state),
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(), name="worker-endpoints")
    try:
        while not server.started:
            if task.done():
                await task  # uvicorn logged why (the port is taken ...)
                raise RuntimeError(f"could not serve the worker's endpoints on port {port}")
            await asyncio.sleep(0.02)
        logger.info("worker endpoints on http://%s:%d/metrics", settings.host, port)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task

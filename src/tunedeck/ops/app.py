"""Putting the operator's side on a process: the app's, or a worker's own small server.

:func:`install_operations` adds ``/metrics``, ``/healthz`` and ``/readyz`` to the app
and makes its metrics, which sample the pieces of its runtime while its lifespan runs
(``ops.samplers``); :func:`observe_requests` adds the request middleware
(``kit.observe``), last, so it is the outermost.

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
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI

from tunedeck.config import Settings
from tunedeck.kit.deps import attach_settings, attached
from tunedeck.kit.errors import TuneDeckAPI, install_error_handlers
from tunedeck.kit.hosts import AllowedHosts, HostCheck
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.observe import ObserveRequests
from tunedeck.ops.rest import router
from tunedeck.ops.samplers import sample_pieces
from tunedeck.runtime import Runtime, running_runtime

logger = logging.getLogger(__name__)


def install_operations(app: FastAPI) -> Metrics:
    """The routes, and the app's metrics (its runtime is built with them, by its
    lifespan), sampling that runtime while it runs."""
    metrics = Metrics()
    _measure(metrics, lambda: running_runtime(app))
    app.include_router(router)
    return metrics


def _measure(metrics: Metrics, runtime: Callable[[], Runtime | None]) -> None:
    """``metrics`` read the pieces of ``runtime()`` at each scrape, and the outbox's
    gauges are set just before (``ops.readiness``)."""
    sample_pieces(metrics, runtime)

    async def outbox_gauges() -> None:
        now = runtime()
        if now is not None:
            await now.readiness.outbox()

    metrics.before_scrape(outbox_gauges)


def observe_requests(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """Request ids, HTTP metrics and the access log: call after every other middleware."""
    app.add_middleware(ObserveRequests, metrics=metrics, access=settings.access_log)


def operations_app(runtime: Runtime) -> FastAPI:
    """The three routes alone, on an existing process's runtime (a worker's), which the
    caller attaches (``kit.deps.attached``); errors answered as the API's are (the
    standard body, the connection kept)."""
    settings = runtime.settings
    app = TuneDeckAPI(docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)
    attach_settings(app, settings)
    _measure(runtime.metrics, lambda: runtime)
    app.include_router(router)
    hosts = AllowedHosts.of(settings, listening_port=settings.worker_metrics_port)
    app.add_middleware(HostCheck, hosts=hosts)
    observe_requests(app, settings, runtime.metrics)
    return app


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside a process that handles its own signals (the worker)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def worker_endpoints(runtime: Runtime) -> AsyncIterator[None]:
    """Serve :func:`operations_app` on ``worker_metrics_port`` for the block (a no-op
    when the port is not set)."""
    settings = runtime.settings
    port = settings.worker_metrics_port
    if port is None:
        yield
        return
    app = operations_app(runtime)
    with attached(app, runtime):
        async with _served(app, settings, port):
            yield


@asynccontextmanager
async def _served(app: FastAPI, settings: Settings, port: int) -> AsyncIterator[None]:
    config = uvicorn.Config(
        app,
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

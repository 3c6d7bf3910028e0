"""``tunedeck worker``: polling and the event relay in a process that serves no HTTP.

A worker runs on the same pieces as ``serve`` (``tunedeck.runtime.process_pieces``:
the database, the bus, the token manager, the event relay) and the real-time pieces
that need no client: the watched registry's heartbeats and housekeeping, and the
poller. Run as many as the accounts need, on PostgreSQL: they share the watched
accounts through leases (each account polled by exactly one process), and when one
dies its accounts are polled again by the others within the lease TTL. The ``serve``
processes then run with ``TUNEDECK_POLL_IN_PROCESS=false`` (or keep polling too: they
take their share through the same leases).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from starlette.datastructures import State

from tunedeck.config import Settings
from tunedeck.migrations.apply import upgrade_database
from tunedeck.realtime.lifespan import realtime
from tunedeck.runtime import process_pieces

logger = logging.getLogger(__name__)


Sidecar = Callable[[Any], AbstractAsyncContextManager[None]]
"""Something that runs beside a worker's pieces, given its state (its HTTP endpoints)."""


class Worker:
    """One worker process's pieces, on ``state`` like an app's (``state.poller``,
    ``state.watch``, ``state.relay``, ...). ``ready`` is set once they all run, and
    ``sidecar`` (if any) with them."""

    def __init__(self, settings: Settings, sidecar: Sidecar | None = None) -> None:
        self.settings = settings
        self.state = State()
        self.ready = asyncio.Event()
        self._sidecar = sidecar

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then stop every piece in reverse order (the poller
        gives its leases back, so other processes take its accounts at once)."""
        async with (
            process_pieces(self.settings, self.state),
            realtime(self.state, serve_feeds=False, poll=True),
            self._sidecar(self.state) if self._sidecar else nullcontext(),
        ):
            logger.info("worker %s is polling", self.state.poller.owner)
            self.ready.set()
            await stop.wait()
            logger.info("worker %s is stopping", self.state.poller.owner)


def run_worker(settings: Settings, sidecar: Sidecar | None = None) -> None:
    """Apply the migrations, then run a worker until SIGINT or SIGTERM (the CLI)."""

    async def main() -> None:
        await upgrade_database(settings.resolved_database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await Worker(settings, sidecar).run(stop)

    asyncio.run(main())

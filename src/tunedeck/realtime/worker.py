"""``tunedeck worker``: polling and the event relay in a process that serves no HTTP.

A worker runs on a runtime built as ``serve``'s is (``tunedeck.runtime.build_runtime``:
the database, the bus, the token manager, the event relay, the now-playing store) with
the real-time pieces that need no client: the watched registry's heartbeats and
housekeeping, and the poller. Run as many as the accounts need, on PostgreSQL: they
share the watched accounts through leases (each account polled by exactly one
process), and when one dies its accounts are polled again by the others within the
lease TTL. The ``serve`` processes then run with ``TUNEDECK_POLL_IN_PROCESS=false`` (or
keep polling too: they take their share through the same leases).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext

from tunedeck.config import Settings
from tunedeck.migrations.apply import upgrade_database
from tunedeck.realtime.poller import Poller
from tunedeck.runtime import Runtime, build_runtime

logger = logging.getLogger(__name__)


Sidecar = Callable[[Runtime], AbstractAsyncContextManager[None]]
"""Something that runs beside a worker's pieces, given its runtime (its HTTP endpoints)."""


class Worker:
    """One worker process's runtime (``runtime``, while it runs). ``ready`` is set once
    its pieces all run, and ``sidecar`` (if any) with them."""

    def __init__(self, settings: Settings, sidecar: Sidecar | None = None) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self.ready = asyncio.Event()
        self._sidecar = sidecar

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set, then stop every piece in reverse order (the poller
        gives its leases back, so other processes take its accounts at once)."""
        async with build_runtime(self.settings, serve=False, poll=True) as runtime:
            poller = _poller(runtime)
            async with self._sidecar(runtime) if self._sidecar else nullcontext():
                self.runtime = runtime
                logger.info("worker %s is polling", poller.owner)
                self.ready.set()
                await stop.wait()
                logger.info("worker %s is stopping", poller.owner)
                self.runtime = None


def _poller(runtime: Runtime) -> Poller:
    if runtime.poller is None:  # built with poll=True
        raise RuntimeError("a worker without its poller")
    return runtime.poller


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

"""The long-lived pieces every TuneDeck process runs on, set up in one place.

``serve`` (the app's lifespan) and ``tunedeck worker`` need the same ones, built the
same way from the same settings; :func:`process_pieces` puts them on a state object
(``app.state``, or the worker's) and takes them down in reverse order:

``metrics`` (kit.metrics.Metrics: the app's own, or a new one), ``failed_logins``
(accounts.throttle.FailedLogins), ``keyring`` (Keyring),
``db`` (Database), ``outbox`` (kit.unit_of_work.Outbox) and ``units``
(kit.unit_of_work.UnitsOfWork: what every operation begins its units of work with; their
commits wake the outbox), ``http`` (one pooled httpx.AsyncClient), ``token_manager``
(connections.TokenManager), ``bus`` (events.bus.EventBus: Redis or in-process) and
``relay`` (events.relay.EventRelay, woken by the outbox, running as a
kit.background.SupervisedTask).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from tunedeck.accounts.throttle import serve_failed_logins
from tunedeck.config import Settings
from tunedeck.connections.token_manager import TokenManager
from tunedeck.events.bus import create_bus
from tunedeck.events.relay import EventRelay
from tunedeck.kit.crypto import load_keyring
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.unit_of_work import Outbox, UnitsOfWork


@asynccontextmanager
async def process_pieces(settings: Settings, state: Any) -> AsyncIterator[None]:
    """Set the process's pieces on ``state`` (with ``state.settings``) for the block."""
    async with AsyncExitStack() as stack:
        state.settings = settings
        state.metrics = metrics = getattr(state, "metrics", None) or Metrics()
        # Failed sign-ins per client address, for every door of the process that
        # authenticates (accounts.throttle).
        await stack.enter_async_context(serve_failed_logins(state, settings))
        state.keyring = load_keyring(settings.encryption_keys, settings.data_dir)
        state.db = db = Database(settings.resolved_database_url)
        stack.push_async_callback(db.dispose)
        # The outbox belongs to this database: a commit that wrote to it wakes its relay.
        state.outbox = outbox = Outbox()
        state.units = UnitsOfWork(db, outbox)
        # Bounded: requests beyond the limit wait for a connection, within their deadline.
        pool = settings.spotify_max_connections
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        state.http = await stack.enter_async_context(create_http_client(limits=limits))
        state.token_manager = TokenManager(db, state.keyring, state.http, settings, metrics=metrics)
        # Events: the bus (Redis or in-process) and the relay that feeds it; the relay
        # stops first (LIFO), its last pass still having the bus and the database.
        state.bus = bus = create_bus(settings)
        await bus.start()
        stack.push_async_callback(bus.close)
        state.relay = relay = EventRelay(db, bus, outbox=outbox)
        await relay.start()
        stack.push_async_callback(relay.stop)
        yield

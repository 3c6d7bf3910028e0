"""The real-time pieces of a process, started and stopped with the app (or the worker).

``serve`` runs all of them; ``worker`` runs the poller side only (no HTTP). Each piece
is put on ``app.state`` (or the worker's state) under the name its docstring gives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from tunedeck.kit.leases import new_owner
from tunedeck.player.deps import STATE_CACHE
from tunedeck.realtime.poll_clients import PollClients
from tunedeck.realtime.poller import Poller
from tunedeck.realtime.serving import serving
from tunedeck.realtime.watch import WatchRegistry


@asynccontextmanager
async def realtime(state: Any, *, serve_feeds: bool, poll: bool) -> AsyncIterator[None]:
    """Start the real-time pieces on ``state`` (``app.state``: settings, db, bus,
    token_manager already there); stop them in reverse order on exit.

    ``serve_feeds``: this process serves live connections (the hub, revocation checks).
    ``poll``: this process polls watched accounts (the poller, with its leases).
    """
    async with AsyncExitStack() as stack:
        # The watched registry (state.watch): in every process, polling or not, since the
        # hub reports its clients to it and every poller reads it.
        state.watch = watch = WatchRegistry(
            state.db, state.settings, new_owner("serve" if serve_feeds else "worker")
        )
        await watch.start()
        stack.push_async_callback(watch.stop)
        if serve_feeds:
            # The hub and the live feeds' pieces (state.live); they close every live
            # connection before the watch registry stops.
            state.live = await stack.enter_async_context(serving(state))
        if poll:
            # The poller (state.poller): this process's share of the watched accounts.
            state.poller = poller = _poller(state, watch)
            await poller.start()
            stack.push_async_callback(poller.stop)
        yield
        await stack.aclose()


def _poller(state: Any, watch: WatchRegistry) -> Poller:
    """A poller on the process's pieces; its polls refresh the state cache when the
    process serves the API (``serve``), not in a ``worker``."""
    metrics = getattr(state, "metrics", None)
    return Poller(
        db=state.db,
        bus=state.bus,
        watch=watch,
        clients=PollClients(state.db, state.keyring, state.http, state.settings, metrics=metrics),
        settings=state.settings,
        owner=watch.process_id,
        cache=getattr(state, STATE_CACHE, None),
        metrics=metrics,
    )

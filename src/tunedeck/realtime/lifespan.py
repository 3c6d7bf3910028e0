"""The real-time pieces of a process, started and stopped with the app (or the worker).

``serve`` runs all of them; ``worker`` runs the poller side only (no HTTP). They are
built on the process's pieces (``tunedeck.runtime``) and handed back as
:class:`Realtime`, which the runtime keeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from tunedeck.config import Settings
from tunedeck.events.bus import EventBus
from tunedeck.kit.crypto import Keyring
from tunedeck.kit.db import Database
from tunedeck.kit.leases import new_owner
from tunedeck.kit.metrics import Metrics
from tunedeck.player.context import SpotifyClients
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.live import Live
from tunedeck.realtime.poll_clients import PollClients, poll_policy
from tunedeck.realtime.poller import Poller
from tunedeck.realtime.serving import serving
from tunedeck.realtime.watch import WatchRegistry
from tunedeck.requests.requesters import RequesterNames


@dataclass(frozen=True)
class Realtime:
    """The real-time pieces of a process. ``watch``: the watched registry, in every
    process (the hub reports its clients to it, every poller reads it); ``live``: the
    hub and the live feeds' pieces, in a process serving live connections; ``poller``:
    this process's share of the watched accounts, in a process that polls."""

    watch: WatchRegistry
    live: Live | None
    poller: Poller | None


@dataclass(frozen=True)
class RealtimeInputs:
    """What the real-time pieces are built on (the process's pieces)."""

    settings: Settings
    db: Database
    bus: EventBus
    keyring: Keyring
    http: httpx.AsyncClient
    clients: SpotifyClients
    now_playing: NowPlayingStore
    metrics: Metrics | None = None


@asynccontextmanager
async def realtime(
    inputs: RealtimeInputs, *, serve_feeds: bool, poll: bool
) -> AsyncIterator[Realtime]:
    """Start the real-time pieces; stop them in reverse order on exit.

    ``serve_feeds``: this process serves live connections (the hub, revocation checks).
    ``poll``: this process polls watched accounts (the poller, with its leases).
    """
    async with AsyncExitStack() as stack:
        watch = WatchRegistry(
            inputs.db, inputs.settings, new_owner("serve" if serve_feeds else "worker")
        )
        await watch.start()
        stack.push_async_callback(watch.stop)
        live = None
        if serve_feeds:
            # They close every live connection before the watch registry stops.
            live = await stack.enter_async_context(
                serving(
                    settings=inputs.settings,
                    db=inputs.db,
                    bus=inputs.bus,
                    clients=inputs.clients,
                    now_playing=inputs.now_playing,
                    watch=watch,
                    metrics=inputs.metrics,
                )
            )
        poller = None
        if poll:
            poller = _poller(inputs, watch)
            await poller.start()
            stack.push_async_callback(poller.stop)
        yield Realtime(watch, live, poller)


def _poller(inputs: RealtimeInputs, watch: WatchRegistry) -> Poller:
    """A poller on the process's pieces; its polls go to the now-playing store."""
    settings = inputs.settings
    clients = PollClients(
        inputs.db,
        inputs.keyring,
        inputs.http,
        settings,
        policy=poll_policy(settings),
        metrics=inputs.metrics,
    )
    return Poller(
        db=inputs.db,
        bus=inputs.bus,
        watch=watch,
        clients=clients,
        settings=settings,
        owner=watch.process_id,
        now_playing=inputs.now_playing,
        metrics=inputs.metrics,
        requesters=RequesterNames(inputs.db),
    )

"""Starting and stopping the live side of a serving process (``Runtime.live``)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from tunedeck.config import Settings
from tunedeck.events.bus import EventBus
from tunedeck.kit.db import Database
from tunedeck.kit.logs import redacted_server_logs
from tunedeck.kit.metrics import Metrics
from tunedeck.player.context import SpotifyClients
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.realtime.caps import CapLimits, ConnectionCaps
from tunedeck.realtime.hub import Hub
from tunedeck.realtime.live import Live, Watch
from tunedeck.realtime.revocation import Revocations
from tunedeck.realtime.shutdown import on_stop_signal
from tunedeck.realtime.snapshot import Snapshots
from tunedeck.requests.requesters import RequesterNames

UVICORN_OPTIONS: dict[str, Any] = {
    # A live connection mostly idles and gets small JSON frames: permessage-deflate would
    # cost each one a zlib context (tens of KiB) and every message a compression per client.
    "ws_per_message_deflate": False,
    # The live feed's connections are held by a lean protocol once opened (lean_ws).
    "ws": "tunedeck.realtime.lean_ws:LeanWebSocketProtocol",
    # TuneDeck writes its own request lines (kit.observe: route, request id, redacted
    # query); uvicorn's would repeat them with the raw query string.
    "access_log": False,
    # Logging is configured once by the command (kit.logs.configure_logging); uvicorn's
    # loggers propagate to its handler instead of installing their own.
    "log_config": None,
}
"""The options of :func:`uvicorn_options` that no setting changes."""


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How every process that serves TuneDeck runs uvicorn (serve, demo).

    A WebSocket message is bounded like a request body (``max_body_bytes``): a GraphQL
    ``subscribe`` frame carries the same document a POST would, and the live feed's one
    client message (``auth``) is far smaller still (the feed refuses more than
    ``protocol.MAX_FRAME`` itself). uvicorn buffers a whole message before the app sees
    it, 16 MiB by default; a larger one is refused as it arrives: closed with 1009."""
    return {**UVICORN_OPTIONS, "ws_max_size": settings.max_body_bytes}


T = TypeVar("T")


def serving_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (``uvicorn[standard]`` brings it), as
    ``uvicorn.run`` would choose; else asyncio's own (None)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency of uvicorn[standard]
        return None
    return uvloop.new_event_loop


def run_serving(main: Coroutine[Any, Any, T]) -> T:
    """Run a serving process's ``main`` (serve, demo) on the loop uvicorn would run it on.

    ``asyncio.run`` would run it on asyncio's own loop: its transports are Python objects,
    some 25 KiB more per idle live connection than uvloop's, and slower to deliver
    (bench/fanout.py)."""
    with asyncio.Runner(loop_factory=serving_loop_factory()) as runner:
        return runner.run(main)


YOUNG_COLLECTION_THRESHOLD = 10_000


def freeze_startup_objects() -> None:
    """Leave what start-up made (modules, schemas, mappers: some 170,000 objects that live
    as long as the process) out of every later garbage collection. Called by the commands
    that serve, once the app is built.

    A full collection walks every tracked object while the event loop waits; a process
    holding thousands of live connections would otherwise pay for start-up's objects, on
    top of its connections', in each of those pauses (about 100 ms, bench/fanout.py).

    And the young generation is collected every 10,000 new objects rather than 700: the
    objects of requests and connections being opened then die before a collection rather
    than being promoted, so the full collections they would bring about (0.6 s of CPU at
    10,000 live connections) do not come every few hundred connections opened."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)


@asynccontextmanager
async def serving(
    *,
    settings: Settings,
    db: Database,
    bus: EventBus,
    clients: SpotifyClients,
    now_playing: NowPlayingStore,
    watch: Watch,
    metrics: Metrics | None = None,
) -> AsyncIterator[Live]:
    """The hub, the revocation checks, the snapshots and the connection caps, on the
    process's pieces; every live connection closed (1001) on the way out."""
    hub = Hub(bus, now_playing=now_playing, queue_size=settings.live_queue_size)
    revocations = Revocations(db, interval=settings.live_revocation_seconds)
    live = Live(
        settings=settings,
        db=db,
        bus=bus,
        hub=hub,
        revocations=revocations,
        snapshots=Snapshots(now_playing, clients, RequesterNames(db)),
        caps=ConnectionCaps(CapLimits.from_settings(settings), metrics=metrics),
        watch=watch,
    )
    await revocations.start()
    try:
        with redacted_server_logs(), on_stop_signal(hub.close_all):
            yield live
    finally:
        hub.close_all()
        await revocations.stop()

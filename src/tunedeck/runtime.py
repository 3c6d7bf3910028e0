"""The long-lived pieces of a TuneDeck process, built once, in one place: the runtime.

``serve`` (the app's lifespan) and ``tunedeck worker`` build theirs with the same
function, :func:`build_runtime`, from the same settings; each piece gets its
collaborators in its constructor, and none reaches into the app's state. The result is
a :class:`Runtime`: typed, frozen, owned by the lifespan that built it, taken down in
reverse order when it ends. The doors read it through ``kit.deps`` (each layer by its
own view of it: see that module), and :func:`runtime_of` / :func:`app_runtime` give it
whole to what sits above the domains (operations, the demo, tests).

What polls, what serves live clients and what follows "now playing" all meet in one
place: the now-playing store (``player.now_playing``), which the poller writes, the
player's actions invalidate, and the state reads, the live feeds' first snapshot and
anything yet to come (a request feeder, a play recorder) read or observe. Every
operation begins its units of work from ``units`` (``kit.unit_of_work``); a commit that
recorded events wakes the outbox, and with it the relay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from tunedeck.accounts.throttle import FailedLogins
from tunedeck.chat.pieces import ChatDoor, chat_door
from tunedeck.config import Settings
from tunedeck.connections.token_manager import TokenManager
from tunedeck.events.bus import EventBus, create_bus
from tunedeck.events.relay import EventRelay
from tunedeck.history.maintenance import HistoryMaintenance
from tunedeck.history.recorder import PlayRecorder
from tunedeck.kit import deps
from tunedeck.kit.crypto import Keyring, load_keyring
from tunedeck.kit.db import Database
from tunedeck.kit.http import create_http_client
from tunedeck.kit.metrics import Metrics
from tunedeck.kit.unit_of_work import Outbox, UnitsOfWork
from tunedeck.ops.readiness import Readiness
from tunedeck.player.limits import RequestLimits
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.player.state import StateCache
from tunedeck.realtime.lifespan import Realtime, RealtimeInputs, realtime
from tunedeck.realtime.live import Live
from tunedeck.realtime.poller import Poller
from tunedeck.realtime.watch import WatchRegistry
from tunedeck.requests.feeder import Feeder
from tunedeck.requests.matching import Matcher


@dataclass(frozen=True)
class Runtime:
    """Every long-lived piece of one process.

    ``live`` (the hub and the live feeds' pieces), ``request_limits`` and ``chat`` (the
    chat door's) are there in a process serving the API (``serve``), ``poller`` and
    ``feeder`` (song requests handed to Spotify, for the accounts this process polls) in
    one that polls; a worker has those two and none of the others. ``plays`` (the play
    recorder) follows the poller's readings where there is a poller and the history is
    on. ``request_matcher`` resolves song requests for every door of the process (one
    search text, one Spotify call).
    """

    settings: Settings
    metrics: Metrics
    keyring: Keyring
    db: Database
    http: httpx.AsyncClient
    token_manager: TokenManager
    failed_logins: FailedLogins
    bus: EventBus
    outbox: Outbox
    units: UnitsOfWork
    relay: EventRelay
    readiness: Readiness
    now_playing: NowPlayingStore
    player_state: StateCache
    watch: WatchRegistry
    live: Live | None
    poller: Poller | None
    request_limits: RequestLimits | None
    # Song requests' lookups, remembered and shared by every door of the process.
    request_matcher: Matcher
    feeder: Feeder | None
    chat: ChatDoor | None
    plays: PlayRecorder | None = None


@dataclass(frozen=True)
class _Core:
    """The pieces every process runs, before the real-time ones."""

    keyring: Keyring
    db: Database
    http: httpx.AsyncClient
    token_manager: TokenManager
    failed_logins: FailedLogins
    bus: EventBus
    outbox: Outbox
    units: UnitsOfWork
    relay: EventRelay


@asynccontextmanager
async def build_runtime(
    settings: Settings, *, serve: bool, poll: bool, metrics: Metrics | None = None
) -> AsyncIterator[Runtime]:
    """Build and start the process's pieces for the block; stop them in reverse order.

    ``serve``: this process serves the API and live clients (``serve``; a worker does
    not). ``poll``: it polls its share of the watched accounts. ``metrics``: the
    process's own (the app's, made with it), or a new one.
    """
    metrics = metrics or Metrics()
    async with AsyncExitStack() as stack:
        core = await stack.enter_async_context(_core(settings, metrics))
        now_playing = NowPlayingStore(settings.player_state_cache_seconds)
        inputs = RealtimeInputs(
            settings=settings,
            db=core.db,
            bus=core.bus,
            keyring=core.keyring,
            http=core.http,
            clients=core.token_manager,
            now_playing=now_playing,
            metrics=metrics,
        )
        live: Realtime = await stack.enter_async_context(
            realtime(inputs, serve_feeds=serve, poll=poll)
        )
        feeder = None
        if live.poller is not None:
            feeder = _feeder(settings, core, now_playing, live.poller)
            await feeder.start()
            stack.push_async_callback(feeder.stop)
        plays = None
        if live.poller is not None and settings.history_enabled:
            plays = await stack.enter_async_context(
                _history(settings, core, now_playing, live.poller)
            )
        limits = None
        chat = None
        if serve:
            limits = RequestLimits.from_settings(settings)
            stack.push_async_callback(limits.close)
            chat = await stack.enter_async_context(
                chat_door(settings.chat_answer_budget_seconds, now_playing)
            )
        yield Runtime(
            settings=settings,
            metrics=metrics,
            keyring=core.keyring,
            db=core.db,
            http=core.http,
            token_manager=core.token_manager,
            failed_logins=core.failed_logins,
            bus=core.bus,
            outbox=core.outbox,
            units=core.units,
            relay=core.relay,
            readiness=Readiness(
                settings=settings, db=core.db, bus=core.bus, relay=core.relay, metrics=metrics
            ),
            now_playing=now_playing,
            player_state=StateCache(now_playing),
            watch=live.watch,
            live=live.live,
            poller=live.poller,
            request_limits=limits,
            request_matcher=Matcher(),
            feeder=feeder,
            chat=chat,
            plays=plays,
        )


def _feeder(
    settings: Settings, core: _Core, now_playing: NowPlayingStore, poller: Poller
) -> Feeder:
    """The request feeder of a polling process: it feeds the accounts whose poll lease
    this process holds (one feeder per account among every process)."""
    return Feeder(
        units=core.units,
        now_playing=now_playing,
        clients=core.token_manager,
        holds=poller.leases.usable,
        lead=settings.request_feed_lead_seconds,
    )


@asynccontextmanager
async def _history(
    settings: Settings, core: _Core, now_playing: NowPlayingStore, poller: Poller
) -> AsyncIterator[PlayRecorder]:
    """The play recorder on the poller's readings, and the history's upkeep."""
    recorder = PlayRecorder(
        units=core.units,
        bus=core.bus,
        settings=settings,
        follows=lambda account_id: poller.account(account_id) is not None,
    )
    recorder.attach(now_playing)
    maintenance = HistoryMaintenance(core.units, settings)
    await maintenance.start()
    try:
        yield recorder
    finally:
        await maintenance.stop()
        await recorder.stop()


@asynccontextmanager
async def _core(settings: Settings, metrics: Metrics) -> AsyncIterator[_Core]:
    async with AsyncExitStack() as stack:
        # Failed sign-ins per client address, for every door of the process that
        # authenticates (accounts.throttle).
        failed_logins = FailedLogins.from_settings(settings, metrics=metrics)
        stack.push_async_callback(failed_logins.close)
        keyring = load_keyring(settings.encryption_keys, settings.data_dir)
        db = Database(settings.resolved_database_url)
        stack.push_async_callback(db.dispose)
        # The outbox belongs to this database: a commit that wrote to it wakes its relay.
        outbox = Outbox()
        units = UnitsOfWork(db, outbox)
        # Bounded: requests beyond the limit wait for a connection, within their deadline.
        pool = settings.spotify_max_connections
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        http = await stack.enter_async_context(create_http_client(limits=limits))
        # Events: the bus (Redis or in-process) and the relay that feeds it; the relay
        # stops first (LIFO), its last pass still having the bus and the database.
        bus = create_bus(settings)
        await bus.start()
        stack.push_async_callback(bus.close)
        relay = EventRelay(db, bus, outbox=outbox)
        await relay.start()
        stack.push_async_callback(relay.stop)
        yield _Core(
            keyring=keyring,
            db=db,
            http=http,
            token_manager=TokenManager(db, keyring, http, settings, metrics=metrics),
            failed_logins=failed_logins,
            bus=bus,
            outbox=outbox,
            units=units,
            relay=relay,
        )


def app_runtime(app: Starlette) -> Runtime:
    """The runtime of ``app`` while its lifespan runs (``kit.deps.NotRunning`` else)."""
    runtime: Runtime = deps.app_runtime(app)
    return runtime


def running_runtime(app: Starlette) -> Runtime | None:
    """The runtime of ``app`` while its lifespan runs, else None."""
    runtime: Runtime | None = deps.current_runtime(app)
    return runtime


def runtime_of(conn: HTTPConnection) -> Runtime:
    """The runtime of the app serving ``conn``."""
    return app_runtime(conn.app)


if TYPE_CHECKING:
    from tunedeck.accounts.throttle import ThrottleRuntime
    from tunedeck.chat.deps import ChatRuntime
    from tunedeck.connections.deps import ConnectionsRuntime
    from tunedeck.doctor.deps import DoctorRuntime
    from tunedeck.ops.samplers import Pieces
    from tunedeck.player.deps import PlayerRuntime
    from tunedeck.player.limits import LimitsRuntime
    from tunedeck.realtime.live import LiveRuntime
    from tunedeck.requests.deps import RequestsRuntime

    def _every_view_fits(runtime: Runtime) -> None:
        """Never called: mypy proves here that :class:`Runtime` is each layer's view of
        it, so that a piece renamed on either side fails type checking."""
        kit: deps.KitRuntime = runtime
        throttle: ThrottleRuntime = runtime
        connections: ConnectionsRuntime = runtime
        player: PlayerRuntime = runtime
        limits: LimitsRuntime = runtime
        live: LiveRuntime = runtime
        sampled: Pieces = runtime
        requests: RequestsRuntime = runtime
        chat: ChatRuntime = runtime
        doctor: DoctorRuntime = runtime
        del chat, requests, kit, throttle, connections, player, limits, live, sampled, doctor

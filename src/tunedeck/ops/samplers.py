"""The metrics read from a process's pieces when ``/metrics`` is scraped.

Nothing here counts: the numbers live where the work is done (the hub's connections,
the poller's leases and stats, the bus's reconnects, the relay's failures) and are
read at scrape time, so those pieces need no hook for them. What is read of each piece
is a Protocol below, and the pieces come from the process's typed runtime
(:class:`Pieces`): a counter renamed in its piece fails type checking here instead of
vanishing from ``/metrics``. A piece the process does not run (no poller in a ``serve``
with ``poll_in_process`` off, no live feeds in a worker) exposes no sample, nor does
anything before the runtime is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sized
from typing import Protocol

from tunedeck.kit.metrics import Labels, Metrics
from tunedeck.player.limits import CallKind, LimitScope
from tunedeck.realtime.account_poller import PollStats
from tunedeck.realtime.caps import ConnectionKind

LIVE_KINDS: tuple[ConnectionKind, ...] = ("websocket", "sse", "graphql")


class LiveFigures(Protocol):
    @property
    def connections(self) -> Mapping[ConnectionKind, int]:
        """Live clients attached now, by what carries them."""
        ...


class PollerFigures(Protocol):
    @property
    def stats(self) -> PollStats: ...

    @property
    def watched_count(self) -> int: ...

    @property
    def leases(self) -> Sized: ...


class BusFigures(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def reconnects(self) -> int: ...


class RelayFigures(Protocol):
    @property
    def failures(self) -> int: ...


class LimitFigures(Protocol):
    @property
    def refusals(self) -> Mapping[tuple[CallKind, LimitScope], int]: ...

    @property
    def unchecked(self) -> int: ...


class Pieces(Protocol):
    """What ``/metrics`` reads of the process's runtime (``tunedeck.runtime.Runtime``)."""

    @property
    def live(self) -> LiveFigures | None: ...

    @property
    def poller(self) -> PollerFigures | None: ...

    @property
    def bus(self) -> BusFigures: ...

    @property
    def relay(self) -> RelayFigures: ...

    @property
    def request_limits(self) -> LimitFigures | None: ...


Samples = list[tuple[Labels, float]]


def _one(value: float | None) -> Samples:
    return [] if value is None else [((), float(value))]


def sample_pieces(metrics: Metrics, pieces: Callable[[], Pieces | None]) -> None:
    """Expose the runtime's pieces: ``pieces()`` is the runtime now (None: not built)."""

    def reading(read: Callable[[Pieces], Samples]) -> Callable[[], Samples]:
        def sample() -> Samples:
            now = pieces()
            return [] if now is None else read(now)

        return sample

    def live_connections(p: Pieces) -> Samples:
        if p.live is None:
            return []
        return [((kind,), float(p.live.connections.get(kind, 0))) for kind in LIVE_KINDS]

    def polls(p: Pieces) -> Samples:
        if p.poller is None:
            return []
        stats = p.poller.stats
        return [(("ok",), float(stats.polls)), (("failed",), float(stats.failures))]

    def refusals(p: Pieces) -> Samples:
        if p.request_limits is None:
            return []
        counted = p.request_limits.refusals.items()
        return [((kind, scope), float(n)) for (kind, scope), n in counted]

    metrics.sample(
        "tunedeck_rate_limit_refusals",
        "Calls refused by TuneDeck's own rate limits (never sent to Spotify), by call kind "
        "(command or read) and by which bucket ran out (key or account).",
        reading(refusals),
        labels=("kind", "scope"),
        counter=True,
    )
    metrics.sample(
        "tunedeck_rate_limit_unchecked",
        "Calls let through unchecked because the rate limits' Redis could not be reached.",
        reading(lambda p: _one(p.request_limits.unchecked if p.request_limits else None)),
        counter=True,
    )
    metrics.sample(
        "tunedeck_live_connections",
        "Live clients connected to this process, by what carries them.",
        reading(live_connections),
        labels=("kind",),
    )
    metrics.sample(
        "tunedeck_poller_watched_accounts",
        "Accounts watched (a live client in any process, a manual-connect window, requests on "
        "their way or a stream open), as this process's poller last saw.",
        reading(lambda p: _one(p.poller.watched_count if p.poller else None)),
    )
    metrics.sample(
        "tunedeck_poll_leases_held",
        "Watched accounts this process holds the polling lease of (and polls).",
        reading(lambda p: _one(len(p.poller.leases) if p.poller else None)),
    )
    metrics.sample(
        "tunedeck_polls",
        "Polls of watched accounts by this process, by outcome.",
        reading(polls),
        labels=("outcome",),
        counter=True,
    )
    metrics.sample(
        "tunedeck_bus_connected",
        "1 while the bus can deliver (the Redis subscription is live; always 1 in-process).",
        reading(lambda p: _one(1.0 if p.bus.connected else 0.0)),
    )
    metrics.sample(
        "tunedeck_bus_reconnects",
        "Times the Redis subscription was lost or failed to connect and was tried again.",
        reading(lambda p: _one(p.bus.reconnects)),
        counter=True,
    )
    metrics.sample(
        "tunedeck_event_relay_failed_passes",
        "Relay passes that could not store or publish (retried with backoff).",
        reading(lambda p: _one(p.relay.failures)),
        counter=True,
    )

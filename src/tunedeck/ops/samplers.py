"""The metrics read from a process's pieces when ``/metrics`` is scraped.

Nothing here counts: the numbers live where the work is done (the hub's connections,
the poller's leases and stats, the bus's reconnects, the relay's failures) and are
read at scrape time, so those pieces need no hook for them. A piece the process does
not run (no poller in a ``serve`` with ``poll_in_process`` off, no live feeds in a
worker) exposes no sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tunedeck.kit.metrics import Labels, Metrics

LIVE_KINDS = ("websocket", "sse", "graphql")


def _one(value: Callable[[], float | None]) -> Callable[[], Iterable[tuple[Labels, float]]]:
    def read() -> list[tuple[Labels, float]]:
        found = value()
        return [] if found is None else [((), float(found))]

    return read


def sample_pieces(metrics: Metrics, state: Any) -> None:
    """Expose the pieces on ``state`` (read at each scrape, whenever they exist)."""

    def piece(name: str) -> Any:
        return getattr(state, name, None)

    def live_connections() -> list[tuple[Labels, float]]:
        live = piece("live")
        if live is None:
            return []
        return [((kind,), float(live.connections.get(kind, 0))) for kind in LIVE_KINDS]

    def polls() -> list[tuple[Labels, float]]:
        poller = piece("poller")
        if poller is None:
            return []
        return [(("ok",), float(poller.stats.polls)), (("failed",), float(poller.stats.failures))]

    def poller_value(read: Callable[[Any], float]) -> Callable[[], float | None]:
        return lambda: None if piece("poller") is None else read(piece("poller"))

    def bus_connected() -> float | None:
        bus = piece("bus")
        if bus is None:
            return None
        return 1.0 if bus.connected else 0.0

    def bus_reconnects() -> float | None:
        bus = piece("bus")
        return None if bus is None else float(bus.reconnects)

    def relay_failures() -> float | None:
        relay = piece("relay")
        return None if relay is None else float(getattr(relay, "failures", 0))

    def rate_limit_refusals() -> list[tuple[Labels, float]]:
        limits = piece("request_limits")
        if limits is None:
            return []
        return [((kind, scope), float(n)) for (kind, scope), n in limits.refusals.items()]

    def rate_limit_unchecked() -> float | None:
        limits = piece("request_limits")
        return None if limits is None else float(limits.unchecked)

    metrics.sample(
        "tunedeck_rate_limit_refusals",
        "Calls refused by TuneDeck's own rate limits (never sent to Spotify), by call kind "
        "(command or read) and by which bucket ran out (key or account).",
        rate_limit_refusals,
        labels=("kind", "scope"),
        counter=True,
    )
    metrics.sample(
        "tunedeck_rate_limit_unchecked",
        "Calls let through unchecked because the rate limits' Redis could not be reached.",
        _one(rate_limit_unchecked),
        counter=True,
    )
    metrics.sample(
        "tunedeck_live_connections",
        "Live clients connected to this process, by what carries them.",
        live_connections,
        labels=("kind",),
    )
    metrics.sample(
        "tunedeck_poller_watched_accounts",
        "Accounts watched (a live client in any process), as this process's poller last saw.",
        _one(poller_value(lambda p: p.watched_count)),
    )
    metrics.sample(
        "tunedeck_poll_leases_held",
        "Watched accounts this process holds the polling lease of (and polls).",
        _one(poller_value(lambda p: len(p.leases))),
    )
    metrics.sample(
        "tunedeck_polls",
        "Polls of watched accounts by this process, by outcome.",
        polls,
        labels=("outcome",),
        counter=True,
    )
    metrics.sample(
        "tunedeck_bus_connected",
        "1 while the bus can deliver (the Redis subscription is live; always 1 in-process).",
        _one(bus_connected),
    )
    metrics.sample(
        "tunedeck_bus_reconnects",
        "Times the Redis subscription was lost or failed to connect and was tried again.",
        _one(bus_reconnects),
        counter=True,
    )
    metrics.sample(
        "tunedeck_event_relay_failed_passes",
        "Relay passes that could not store or publish (retried with backoff).",
        _one(relay_failures),
        counter=True,
    )

"""The metrics of one app (or worker): its own Prometheus registry, never the global one.

A :class:`Metrics` is made with the app (a worker makes its own) and handed to the
pieces that count things through their constructors (the process's runtime: the
Spotify transport, the token manager, the poller). Pieces built without one count
nothing. Values that already live somewhere (live connections in the hub, leases held
by the poller, the bus's reconnects, the outbox in the database) are not copied into
counters: they are read when ``/metrics`` is scraped, by :meth:`Metrics.sample`
callbacks and :meth:`Metrics.before_scrape` probes.

Every metric is listed here, so that this file is the catalogue an operator reads.
Labels are bounded sets (route templates, never raw paths; Spotify operations as
method and path template; outcomes), so no caller can grow the series without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SPOTIFY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
RETRY_AFTER_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0)
LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TRANSPORTS = ("http", "websocket")
LIVE_KINDS = ("websocket", "sse", "graphql")
LIVE_CAPS = ("credential", "account", "address", "unauthenticated")

PROBE_TIMEOUT = 5.0
"""Longest a scrape waits for one probe (a slow database must not hang the scraper)."""

Labels = tuple[str, ...]
Read = Callable[[], Iterable[tuple[Labels, float]]]
"""A sampled metric's values: (label values, value) pairs, read at scrape time."""


@dataclass(frozen=True, slots=True)
class _Sampled:
    name: str
    documentation: str
    labels: Labels
    read: Read
    counter: bool


class _SampledCollector(Collector):
    """Yields the sampled metrics; one failing read costs its own metric only."""

    def __init__(self, sampled: list[_Sampled]) -> None:
        self._sampled = sampled

    def describe(self) -> Iterable[Metric]:
        return [self._family(s) for s in self._sampled]

    def collect(self) -> Iterable[Metric]:
        for sampled in list(self._sampled):
            family = self._family(sampled)
            try:
                for values, value in sampled.read():
                    family.add_metric(list(values), value)
            except Exception as exc:
                logger.debug("metric %s not sampled: %r", sampled.name, exc)
                continue
            yield family

    @staticmethod
    def _family(sampled: _Sampled) -> CounterMetricFamily | GaugeMetricFamily:
        kind = CounterMetricFamily if sampled.counter else GaugeMetricFamily
        return kind(sampled.name, sampled.documentation, labels=list(sampled.labels))


class Metrics:
    """The metrics of one app or worker, on a registry of its own (``registry``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._sampled: list[_Sampled] = []
        self._probes: list[Callable[[], Awaitable[None]]] = []
        registry.register(_SampledCollector(self._sampled))

        # ---- HTTP (kit.observe) ----
        self.http_requests = Counter(
            "tunedeck_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.http_duration = Histogram(
            "tunedeck_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template.",
            ("route", "method"),
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        # ---- Spotify (spotify.transport, connections.token_manager) ----
        self.spotify_requests = Counter(
            "tunedeck_spotify_requests",
            "HTTP requests sent to the Spotify Web API (each attempt), by operation and "
            "status ('timeout' / 'unreachable' when no answer came).",
            ("operation", "status"),
            registry=registry,
        )
        self.spotify_duration = Histogram(
            "tunedeck_spotify_request_duration_seconds",
            "Time of one request to the Spotify Web API, by operation.",
            ("operation",),
            buckets=SPOTIFY_BUCKETS,
            registry=registry,
        )
        self.spotify_retry_after = Histogram(
            "tunedeck_spotify_retry_after_seconds",
            "Retry-After of Spotify's 429 answers, by operation.",
            ("operation",),
            buckets=RETRY_AFTER_BUCKETS,
            registry=registry,
        )
        self.token_refreshes = Counter(
            "tunedeck_token_refreshes",
            "Spotify token refreshes by outcome: refreshed, already_fresh (another caller or "
            "process refreshed first), invalid_grant (needs re-authorization), app_rejected, "
            "failed.",
            ("outcome",),
            registry=registry,
        )
        # ---- polling (realtime.account_poller) ----
        self.poll_lateness = Histogram(
            "tunedeck_poll_lateness_seconds",
            "How late a poll of a watched account started after the time it was due.",
            buckets=LATENESS_BUCKETS,
            registry=registry,
        )
        # ---- the doors (accounts.throttle, realtime.caps) ----
        self.auth_failures = Counter(
            "tunedeck_auth_failures",
            "Credentials refused (unknown, revoked or expired), by transport (http or websocket).",
            ("transport",),
            registry=registry,
        )
        self.auth_throttled = Counter(
            "tunedeck_auth_throttled",
            "Requests and connections refused unchecked because their client address "
            "failed to authenticate too often (too_many_failed_logins), by transport.",
            ("transport",),
            registry=registry,
        )
        self.live_refusals = Counter(
            "tunedeck_live_connection_refusals",
            "Live connections refused over a cap, by what carries them (websocket, sse, "
            "graphql) and which cap (credential, account, address, unauthenticated).",
            ("kind", "cap"),
            registry=registry,
        )
        for transport in TRANSPORTS:  # every series present from the start, at 0
            self.auth_failures.labels(transport)
            self.auth_throttled.labels(transport)
        for kind in LIVE_KINDS:
            for cap in LIVE_CAPS:
                self.live_refusals.labels(kind, cap)
        # ---- events (read by the app's readiness probe at scrape time) ----
        self.outbox_backlog = Gauge(
            "tunedeck_event_outbox_backlog",
            "Events recorded and not yet both stored and published (read at scrape time).",
            registry=registry,
        )
        self.relay_lag = Gauge(
            "tunedeck_event_relay_lag_seconds",
            "Age of the oldest event still waiting in the outbox (0 when it is empty).",
            registry=registry,
        )

    # -- what the pieces call ------------------------------------------------------------

    def spotify_request(self, operation: str, status: str, seconds: float) -> None:
        """One HTTP attempt to Spotify ended (with a status, or 'timeout'/'unreachable')."""
        self.spotify_requests.labels(operation, status).inc()
        self.spotify_duration.labels(operation).observe(seconds)

    def spotify_rate_limited(self, operation: str, retry_after: float) -> None:
        """Spotify answered 429 asking to wait ``retry_after`` seconds."""
        self.spotify_retry_after.labels(operation).observe(retry_after)

    def token_refresh(self, outcome: str) -> None:
        self.token_refreshes.labels(outcome).inc()

    def poll_late(self, seconds: float) -> None:
        self.poll_lateness.observe(max(0.0, seconds))

    # -- values read at scrape time ----------------------------------------------------------

    def sample(
        self,
        name: str,
        documentation: str,
        read: Read,
        *,
        labels: Sequence[str] = (),
        counter: bool = False,
    ) -> None:
        """Expose ``name``, whose values ``read`` returns when the metrics are scraped."""
        self._sampled.append(_Sampled(name, documentation, tuple(labels), read, counter))

    def before_scrape(self, probe: Callable[[], Awaitable[None]]) -> None:
        """Await ``probe`` before each scrape (it sets gauges from the database ...)."""
        self._probes.append(probe)

    async def render(self) -> bytes:
        """The Prometheus text exposition, probes run first (each bounded in time)."""
        for probe in self._probes:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    await probe()
            except Exception as exc:  # the gauges keep their last values
                logger.warning("metrics probe failed: %r", exc)
        return generate_latest(self.registry)

    def names(self) -> Iterator[str]:
        """The metric names this registry exposes (for tests and docs)."""
        for metric in self.registry.collect():
            yield metric.name

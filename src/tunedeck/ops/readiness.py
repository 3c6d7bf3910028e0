"""What ``/readyz`` checks, and what each failing check means.

- ``database``: the database answers (within ``CHECK_TIMEOUT``);
- ``migrations``: it is at the revision this code expects (Alembic's head);
- ``bus``: the Redis subscription is live (always so for the in-process bus);
- ``relay``: the event relay runs, no more than ``ready_max_outbox_backlog`` events wait
  in the outbox (counted up to one past that bound: the count is largest exactly while
  Redis is down, when the probe must stay cheap) and the oldest is younger than
  ``ready_max_relay_lag_seconds``.

The first two are *critical*: failing, the process cannot serve (503, ``unavailable``).
The last two only make it ``degraded`` (200): with Redis down, commands still work and
their events wait in the outbox (live clients get them once the bus is back), so a load
balancer must not take every instance out because of it; the body and ``/metrics``
(``tunedeck_bus_connected``, ``tunedeck_event_outbox_backlog``,
``tunedeck_event_relay_lag_seconds``) say so for alerting.

``/readyz`` is public (load balancers call it without credentials, often several a
second): :meth:`Readiness.report` answers from its last report for
``ready_cache_seconds`` and makes one at a time, and an outside caller without an
``admin`` key sees each check's outcome but not what it says (error text, revisions,
counts: :meth:`Report.to_json`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tunedeck.config import Settings
from tunedeck.events import repository as events_repository
from tunedeck.kit.db import Database, utcnow
from tunedeck.kit.errors import describe
from tunedeck.kit.logs import redact
from tunedeck.kit.metrics import Metrics
from tunedeck.migrations.apply import head_revision, revision_of

CHECK_TIMEOUT = 3.0
"""Longest one check may take: a hung database must not hang the probe."""

Status = Literal["ok", "degraded", "unavailable"]


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome; ``critical`` ones failing make the process unavailable."""

    ok: bool
    critical: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self, *, details: bool) -> dict[str, Any]:
        outcome = {"ok": self.ok, "critical": self.critical}
        return {**outcome, "detail": self.detail, **self.data} if details else outcome


@dataclass(frozen=True, slots=True)
class Report:
    checks: dict[str, Check]

    @property
    def status(self) -> Status:
        failing = [check for check in self.checks.values() if not check.ok]
        if any(check.critical for check in failing):
            return "unavailable"
        return "degraded" if failing else "ok"

    @property
    def http_status(self) -> int:
        return 503 if self.status == "unavailable" else 200

    def to_json(self, *, details: bool) -> dict[str, Any]:
        """The status and each check's outcome; with ``details``, what each one says
        (for the operator: it may name hosts, revisions, error text)."""
        return {
            "status": self.status,
            "checks": {name: check.to_json(details=details) for name, check in self.checks.items()},
        }


@dataclass(frozen=True, slots=True)
class Outbox:
    """Events waiting in the outbox and the age of the oldest (seconds; 0 when empty)."""

    backlog: int
    lag: float


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:g} s"
    return redact(describe(exc))


class BusHealth(Protocol):
    """What the checks read of the bus (``events.bus.EventBus``)."""

    @property
    def connected(self) -> bool: ...

    @property
    def reconnects(self) -> int: ...


class RelayHealth(Protocol):
    """What the checks read of the event relay (``events.relay.EventRelay``)."""

    @property
    def running(self) -> bool: ...


class Readiness:
    """The checks of one process, on its pieces."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        bus: BusHealth,
        relay: RelayHealth,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._db = db
        self._bus = bus
        self._relay = relay
        self._metrics = metrics
        self._head: str | None = None
        self._clock = clock
        # One report made at a time; the last one, with when it was made (``clock``).
        self._making = asyncio.Lock()
        self._last: tuple[float, Report] | None = None
        self.passes = 0
        """Reports begun (each one pass over the database)."""

    def head(self) -> str | None:
        """The revision this code expects (read from the migration scripts once)."""
        if self._head is None:
            self._head = head_revision()
        return self._head

    async def outbox(self) -> Outbox:
        """Read the whole outbox and set the metrics' gauges from it (for ``/metrics``,
        which only the operator calls: the backlog counted exactly)."""
        outbox = await self.waiting()
        self._metrics.outbox_backlog.set(outbox.backlog)
        self._metrics.relay_lag.set(outbox.lag)
        return outbox

    async def waiting(self, at_most: int | None = None) -> Outbox:
        """The outbox's backlog (counted up to ``at_most + 1`` when given: the probe never
        counts the whole table) and the age of its oldest event."""
        async with asyncio.timeout(CHECK_TIMEOUT), self._db.session() as session:
            backlog, oldest = await events_repository.outbox_backlog(session, at_most=at_most)
        lag = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
        return Outbox(backlog, lag)

    async def report(self) -> Report:
        """The last report while it is younger than ``ready_cache_seconds``, else a new
        one. One is made at a time: callers arriving meanwhile wait for it and share it
        (a burst of probes is one database pass, not one each)."""
        last = self._last
        if last is not None and self._clock() - last[0] < self._settings.ready_cache_seconds:
            return last[1]
        async with self._making:
            if self._last is not None and self._last is not last:
                return self._last[1]  # made while this caller waited
            self.passes += 1
            report = await self._check_all()
            self._last = (self._clock(), report)
            return report

    async def _check_all(self) -> Report:
        checks: dict[str, Check] = {}
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                current = await revision_of(self._db.engine)
        except Exception as exc:
            reason = _describe(exc)
            checks["database"] = Check(False, True, f"unreachable: {reason}")
            checks["migrations"] = Check(False, True, "not checked: the database is unreachable")
        else:
            checks["database"] = Check(True, True, "reachable")
            checks["migrations"] = self._migrations(current)
        checks["bus"] = self._check_bus()
        checks["relay"] = await self._check_relay(database_up=checks["database"].ok)
        return Report(checks)

    def _migrations(self, current: str | None) -> Check:
        head = self.head()
        data = {"database_revision": current, "code_revision": head}
        if current == head:
            return Check(True, True, f"at {head}", data)
        return Check(
            False,
            True,
            f"the database is at {current or 'no revision'} and this version expects {head}: "
            "run `tunedeck migrate`",
            data,
        )

    def _check_bus(self) -> Check:
        bus = self._bus
        if not self._settings.redis_url:
            return Check(True, False, "in-process")
        data = {"reconnects": bus.reconnects}
        if bus.connected:
            return Check(True, False, "Redis subscription live", data)
        return Check(
            False,
            False,
            "Redis is unreachable: commands still work, their events wait in the outbox "
            "and reach live clients once it is back",
            data,
        )

    async def _check_relay(self, *, database_up: bool) -> Check:
        settings = self._settings
        problems = []
        if not self._relay.running:
            problems.append("the event relay is not running")
        if not database_up:
            problems.append("the outbox is not readable (the database is unreachable)")
            return Check(False, False, "; ".join(problems))
        bound = settings.ready_max_outbox_backlog
        try:
            outbox = await self.waiting(at_most=bound)
        except Exception as exc:
            problems.append(f"the outbox is not readable: {_describe(exc)}")
            return Check(False, False, "; ".join(problems))
        over = outbox.backlog > bound
        backlog: int | str = f"more than {bound}" if over else outbox.backlog
        data = {"backlog": backlog, "lag_seconds": round(outbox.lag, 3)}
        if over:
            problems.append(f"more than {bound} events wait in the outbox")
        if outbox.lag > settings.ready_max_relay_lag_seconds:
            problems.append(
                f"the oldest waiting event is {outbox.lag:.1f} s old "
                f"(more than {settings.ready_max_relay_lag_seconds:g} s)"
            )
        if problems:
            return Check(False, False, "; ".join(problems), data)
        return Check(True, False, "events flow", data)

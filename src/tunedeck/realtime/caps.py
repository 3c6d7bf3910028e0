"""How many live connections one process holds open at once, per who and per where.

Every live connection (the feed's WebSocket and SSE, a GraphQL WebSocket) holds a
:class:`Slot` for as long as it is open: before it authenticates, one of its client
address's unauthenticated slots; once authenticated, one of its credential's, its
account's and its address's. A connection that would go over any of these caps is
refused (WebSocket: closed with 4429 and a sentence naming the cap; SSE: 429
``too_many_connections`` with ``Retry-After``) and counted in
``tunedeck_live_connection_refusals_total{kind, cap}``.

The counts are this process's. What a cap protects is the process's own memory, file
descriptors and fan-out time, so a count per process is the right measure; a count
shared through Redis would cost a round trip per connection and would have to be
repaired after every process that dies holding connections. Behind several ``serve``
processes a client can open up to the cap in each.

The address is the one ``kit.addresses`` reports (an IPv6 client counts by its /64).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from tunedeck.config import Settings
from tunedeck.kit.errors import ErrorDetails, TuneDeckError
from tunedeck.kit.metrics import Metrics
from tunedeck.realtime.credentials import Credential

ConnectionKind = Literal["websocket", "sse", "graphql"]
"""What carries a live client (the door it came through)."""

RETRY_AFTER = 5
"""What a refused SSE client is told to wait, in seconds: a cap frees up as soon as one
of the connections holding it closes, which the server cannot foresee."""


class Cap(StrEnum):
    CREDENTIAL = "credential"
    ACCOUNT = "account"
    ADDRESS = "address"
    UNAUTHENTICATED = "unauthenticated"


# What a refused client is told (a WebSocket close reason: at most 123 bytes).
REASONS: dict[Cap, str] = {
    Cap.CREDENTIAL: "too many live connections with this credential ({limit}); close one",
    Cap.ACCOUNT: "too many live connections for this account ({limit}); close one",
    Cap.ADDRESS: "too many live connections from this address ({limit}); close one",
    Cap.UNAUTHENTICATED: "too many connections waiting to authenticate from this "
    "address ({limit}); authenticate first",
}


@dataclass(frozen=True, slots=True)
class CapLimits:
    """The caps, from the settings."""

    per_credential: int
    per_account: int
    per_address: int
    unauthenticated_per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CapLimits:
        return cls(
            per_credential=settings.live_max_per_credential,
            per_account=settings.live_max_per_account,
            per_address=settings.live_max_per_address,
            unauthenticated_per_address=settings.live_max_unauthenticated_per_address,
        )

    def of(self, cap: Cap) -> int:
        return {
            Cap.CREDENTIAL: self.per_credential,
            Cap.ACCOUNT: self.per_account,
            Cap.ADDRESS: self.per_address,
            Cap.UNAUTHENTICATED: self.unauthenticated_per_address,
        }[cap]


class OverCap(Exception):  # noqa: N818 (reads as an outcome)
    """A connection that would go over ``cap`` (its ``limit``); ``reason`` says so."""

    def __init__(self, cap: Cap, limit: int) -> None:
        self.cap = cap
        self.limit = limit
        self.reason = REASONS[cap].format(limit=limit)
        super().__init__(self.reason)


class TooManyConnections(TuneDeckError):  # noqa: N818 (HTTP names read better)
    """An SSE stream refused over a cap (429)."""

    status = 429
    code = "too_many_connections"

    def __init__(self, over: OverCap) -> None:
        super().__init__(
            over.reason[0].upper() + over.reason[1:] + ".",
            headers={"Retry-After": str(RETRY_AFTER)},
            details=ErrorDetails(
                retry_after=RETRY_AFTER,
                hint="several OBS scenes can share one overlay; close the connections "
                "this client no longer reads",
            ),
        )


Key = tuple[Cap, Hashable]


class Slot:
    """The places one connection holds; :meth:`release` gives them back (once)."""

    def __init__(self, caps: ConnectionCaps, keys: list[Key]) -> None:
        self._caps = caps
        self._keys = keys

    def release(self) -> None:
        keys, self._keys = self._keys, []
        self._caps._give_back(keys)

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ConnectionCaps:
    """The open live connections of this process, counted per cap (module doc)."""

    def __init__(self, limits: CapLimits, *, metrics: Metrics | None = None) -> None:
        self.limits = limits
        self.metrics = metrics
        self._open: Counter[Key] = Counter()

    def unauthenticated(self, address: str, kind: ConnectionKind) -> Slot:
        """A slot for a connection from ``address`` that has yet to authenticate;
        :class:`OverCap` when its address holds all of them."""
        return self._take(kind, [(Cap.UNAUTHENTICATED, address)])

    def authenticated(
        self,
        credential: Credential,
        account_id: uuid.UUID,
        address: str,
        kind: ConnectionKind,
    ) -> Slot:
        """A slot for an authenticated connection; :class:`OverCap` naming the first cap
        it would go over (credential, then account, then address)."""
        return self._take(
            kind,
            [(Cap.CREDENTIAL, credential), (Cap.ACCOUNT, account_id), (Cap.ADDRESS, address)],
        )

    def open_count(self, cap: Cap, key: Hashable) -> int:
        """How many open connections count against ``cap`` under ``key``."""
        return self._open.get((cap, key), 0)

    def _take(self, kind: ConnectionKind, keys: list[Key]) -> Slot:
        for cap, key in keys:
            limit = self.limits.of(cap)
            if self._open.get((cap, key), 0) >= limit:
                if self.metrics is not None:
                    self.metrics.live_refusals.labels(kind, cap.value).inc()
                raise OverCap(cap, limit)
        self._open.update(keys)
        return Slot(self, keys)

    def _give_back(self, keys: list[Key]) -> None:
        for key in keys:
            left = self._open[key] - 1
            if left > 0:
                self._open[key] = left
            else:
                del self._open[key]  # bounded: only open connections are remembered

"""How fast an API key, and an account, may call the player: the one check both doors make.

Every player operation is a *command* (it changes something at Spotify, or starts or
stops polling: playback, queue, devices, playlists, manual connect) or a *read* (state,
queue, devices, playlists, search, events, manual status: mostly served from the state
cache, so limited more loosely). Its kind follows from the permission it needs:
``spotify:read`` guards the reads, every other player permission a command.

A call spends one token of its key's bucket and one of its account's bucket of its
kind (:class:`~tunedeck.kit.token_bucket.Rate`, from the settings); with either empty
it is refused with 429 ``too_many_requests``, ``Retry-After`` and
``details.retry_after`` (whole seconds, at least 1), distinct from Spotify's own 429
``rate_limited``. A refused call spends nothing, so a runaway key leaves its account's
bucket to the other keys. A dashboard session is made from an API key and is that key
here: it shares the key's bucket (opening more sessions buys no more calls).

The check runs after authentication and the permission check, before the input model
is validated (a client looping on a wrong field is slowed down like any other) and
before anything reaches Spotify or records an event. What is refused earlier, at no
token's cost, costs no Spotify call either: a body that is not JSON (400/415) or too
large (413), a GraphQL document that does not parse or is too deep or too costly.
Where: REST in the route's dependency
(``player.rest.player``), GraphQL in each field's permission classes
(``player.graphql.limits``), so each aliased mutation of a document spends its own
token. Buckets live in Redis when ``TUNEDECK_REDIS_URL`` is set (every ``serve``
process shares them), in memory otherwise.

For metrics: :attr:`RequestLimits.refusals` counts refusals by (kind, scope) and
:attr:`RequestLimits.unchecked` the calls admitted unchecked while Redis was down.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from starlette.requests import HTTPConnection

from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.config import Settings
from tunedeck.kit.deps import runtime_of
from tunedeck.kit.errors import ErrorDetails, TuneDeckError
from tunedeck.kit.token_bucket import (
    Bucket,
    BucketStore,
    Clock,
    MemoryBuckets,
    Rate,
    RedisBuckets,
    retry_after_header,
)


class CallKind(StrEnum):
    COMMAND = "command"
    READ = "read"


class LimitScope(StrEnum):
    """Whose bucket refused a call."""

    KEY = "key"
    ACCOUNT = "account"


def kind_of(permission: Permission) -> CallKind:
    """A player operation's kind, from the permission it needs."""
    return CallKind.READ if permission is Permission.SPOTIFY_READ else CallKind.COMMAND


@dataclass(frozen=True, slots=True)
class KindLimits:
    """The rates of one kind of call: per API key, and per account (all its keys)."""

    key: Rate
    account: Rate


def limits_from(settings: Settings) -> dict[CallKind, KindLimits]:
    """The rates the settings configure."""
    s = settings
    return {
        CallKind.COMMAND: KindLimits(
            key=Rate(s.rate_limit_key_commands_per_second, s.rate_limit_key_command_burst),
            account=Rate(
                s.rate_limit_account_commands_per_second, s.rate_limit_account_command_burst
            ),
        ),
        CallKind.READ: KindLimits(
            key=Rate(s.rate_limit_key_reads_per_second, s.rate_limit_key_read_burst),
            account=Rate(s.rate_limit_account_reads_per_second, s.rate_limit_account_read_burst),
        ),
    }


class TooManyRequests(TuneDeckError):  # noqa: N818 (HTTP names read better)
    """A key or an account called the player faster than its limit (Spotify not called)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, kind: CallKind, scope: LimitScope, rate: Rate, retry_after: float) -> None:
        seconds = retry_after_header(retry_after)
        if scope is LimitScope.KEY:
            who, hint = "This API key", "slow this client down; the account's other keys are "
            hint += "not affected"
        else:
            who, hint = "This account's keys together", "every key of this account waits"
        super().__init__(
            f"{who} called faster than the {kind} limit ({rate}); retry after {seconds} s. "
            "Nothing was sent to Spotify.",
            headers={"Retry-After": str(seconds)},
            details=ErrorDetails(retry_after=seconds, hint=hint),
        )
        self.kind = kind
        self.scope = scope


class RequestLimits:
    """The app's limits: rates per kind (``None``: no limits) over one bucket store."""

    def __init__(self, store: BucketStore, limits: Mapping[CallKind, KindLimits] | None) -> None:
        self.store = store
        self.limits = dict(limits) if limits is not None else None
        self.refusals: Counter[tuple[CallKind, LimitScope]] = Counter()

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.time) -> RequestLimits:
        store: BucketStore
        if settings.redis_url and settings.rate_limits:
            store = RedisBuckets(
                settings.redis_url,
                prefix=f"{settings.redis_namespace}:limits:",  # the deployment's namespace
                timeout=settings.rate_limit_redis_timeout_seconds,
                clock=clock,
            )
        else:
            store = MemoryBuckets(clock=clock)
        return cls(store, limits_from(settings) if settings.rate_limits else None)

    @property
    def unchecked(self) -> int:
        """Calls admitted without a check because Redis could not be reached."""
        return self.store.unchecked

    async def admit(self, principal: Principal, permission: Permission) -> None:
        """Spend a token of ``principal``'s key and account for an operation needing
        ``permission``; :class:`TooManyRequests` (nothing spent) when either is empty."""
        if self.limits is None:
            return
        kind = kind_of(permission)
        rates = self.limits[kind]
        # A Redis Cluster hash tag: an account's buckets share a slot (one script call).
        account = f"{{{principal.account_id}}}"
        buckets = [Bucket(f"{account}:account:{kind}", rates.account)]
        scopes = [LimitScope.ACCOUNT]
        if principal.key_id is not None:
            buckets.insert(0, Bucket(f"{account}:key:{principal.key_id}:{kind}", rates.key))
            scopes.insert(0, LimitScope.KEY)
        verdict = await self.store.take(buckets)
        if verdict.admitted or verdict.refused_by is None:
            return
        scope = scopes[verdict.refused_by]
        self.refusals[(kind, scope)] += 1
        raise TooManyRequests(kind, scope, buckets[verdict.refused_by].rate, verdict.retry_after)

    async def close(self) -> None:
        await self.store.close()


class LimitsRuntime(Protocol):
    """The part of the process's runtime the limits are read from (``kit.deps``): a
    process serving the API has them, a worker none."""

    @property
    def request_limits(self) -> RequestLimits | None: ...


def request_limits(conn: HTTPConnection) -> RequestLimits:
    runtime: LimitsRuntime = runtime_of(conn)
    if runtime.request_limits is None:
        raise RuntimeError("a player call in a process that serves no API")
    return runtime.request_limits


async def admit(conn: HTTPConnection, principal: Principal, permission: Permission) -> None:
    """THE rate-limit check of a player call, for REST and GraphQL alike (module doc)."""
    await request_limits(conn).admit(principal, permission)

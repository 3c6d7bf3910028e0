"""How the Spotify client talks HTTP: one request policy for every operation.

:class:`SpotifyTransport` sends one request for one user (its token provider hands out
that user's access token) and returns a 2xx response or raises from the
``tunedeck.spotify.errors`` family. A public call of the client runs inside
:meth:`SpotifyTransport.call`, which gives it an overall deadline shared by every
request, retry and wait it makes. Within that deadline:

* any 2xx is success, whatever the body (204, 202, 200 with text);
* 401: ask the token provider for a forced refresh, retry once;
* 429: wait ``Retry-After`` when it is within ``RequestPolicy.rate_limit_wait_cap`` and
  the deadline, then retry (any method: the request was not processed); otherwise
  raise :class:`SpotifyRateLimitError` at once with ``retry_after`` set;
* 5xx, connection errors, timeouts: bounded jittered retries for idempotent requests
  (GET, PUT, DELETE) only; never for POSTs (next, previous, queue add, playlist create
  and add), whose effect would double if the first attempt did land;
* no attempt starts with less than ``MIN_ATTEMPT_SECONDS`` of the deadline left.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from pydantic import ValidationError

from tunedeck.kit.metrics import Metrics
from tunedeck.spotify.errors import (
    SpotifyError,
    SpotifyRateLimitError,
    SpotifyUnavailableError,
)
from tunedeck.spotify.models import ErrorBody

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 1.0
"""Seconds to assume when a 429 carries no usable ``Retry-After``."""

MAX_RATE_LIMIT_WAITS = 3
"""In-line 429 waits per request; past them the 429 is raised (no hammering on ``0``)."""

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})
"""Methods retried after a 5xx or a transport failure."""

MIN_ATTEMPT_SECONDS = 0.05
"""An attempt is not started with less of the deadline left: it could not be answered in
time, yet a command sent that late could still take effect after we gave up on it."""

# Deadline (event-loop time) of the public call in progress in this task, if any.
_call_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "spotify_call_deadline", default=None
)

Params = Mapping[str, str | int | None]

# Path segments that are ids, replaced in the operation names metrics are labelled by.
_ID_SEGMENT = re.compile(r"(?<=/playlists/)[^/]+")


def operation_name(method: str, path: str) -> str:
    """``GET /me/player``, ``POST /playlists/{id}/items``: a request's bounded label."""
    return f"{method} {_ID_SEGMENT.sub('{id}', path)}"


class TokenProvider(Protocol):
    """Gives a valid access token for the user; ``force_refresh`` asks for a new one
    even if the current one looks valid (Spotify has just refused it with a 401)."""

    async def __call__(self, *, force_refresh: bool = False) -> str: ...


@dataclass(frozen=True)
class RequestPolicy:
    """How patient the client is with Spotify."""

    rate_limit_wait_cap: float = 5.0
    """Longest ``Retry-After`` (seconds) worth waiting for in-line."""
    max_retries: int = 2
    """Retries after a 5xx or transport failure, for idempotent requests only."""
    backoff_base: float = 0.2
    """First backoff (seconds), doubled per retry, with jitter."""
    attempt_timeout: float = 5.0
    """Timeout of one HTTP attempt (seconds)."""
    deadline: float = 15.0
    """Overall time (seconds) for one public call, retries and waits included."""


class SpotifyTransport:
    """Requests to the Spotify Web API for one user, under one :class:`RequestPolicy`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token_provider: TokenProvider,
        *,
        api_url: str,
        policy: RequestPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._http = http
        self._tokens = token_provider
        self.api_url = api_url.rstrip("/")
        self.policy = policy or RequestPolicy()
        self._metrics = metrics

    def __repr__(self) -> str:
        return f"SpotifyTransport(api_url={self.api_url!r})"

    @asynccontextmanager
    async def call(self) -> AsyncIterator[float]:
        """Scope of one public call: sets its deadline (nested scopes share the outer one)
        and turns running past it into a 504 :class:`SpotifyUnavailableError`."""
        current = _call_deadline.get()
        if current is not None:
            yield current
            return
        deadline_at = asyncio.get_running_loop().time() + self.policy.deadline
        reset_token = _call_deadline.set(deadline_at)
        try:
            async with asyncio.timeout_at(deadline_at):
                yield deadline_at
        except TimeoutError as exc:
            raise SpotifyUnavailableError(
                504, f"Spotify call exceeded its {self.policy.deadline:g}s deadline"
            ) from exc
        finally:
            _call_deadline.reset(reset_token)

    async def get(self, path: str, params: Params | None = None) -> Any | None:
        """GET ``path``: its decoded JSON body, or None when empty or not JSON."""
        return json_body(await self.send("GET", path, params=params))

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> httpx.Response:
        """One request with the retry rules of the module docstring; returns a 2xx."""
        policy = self.policy
        retry_failures = method in IDEMPOTENT_METHODS
        query = {key: str(value) for key, value in (params or {}).items() if value is not None}
        url = self.api_url + path
        operation = operation_name(method, path)
        loop = asyncio.get_running_loop()
        async with self.call() as deadline_at:
            token = await self._tokens()
            refreshed = False
            failures = 0
            rate_limit_waits = 0
            while True:
                remaining = deadline_at - loop.time()
                if remaining < MIN_ATTEMPT_SECONDS:
                    raise SpotifyUnavailableError(
                        504, f"Spotify call exceeded its {policy.deadline:g}s deadline"
                    )
                failure: SpotifyUnavailableError
                sent_at = time.perf_counter()
                try:
                    response = await self._http.request(
                        method,
                        url,
                        params=query,
                        json=body,
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=min(policy.attempt_timeout, remaining),
                    )
                except httpx.TimeoutException as exc:
                    self._record(operation, "timeout", sent_at)
                    failure = SpotifyUnavailableError(504, f"Spotify timed out on {method} {path}")
                    failure.__cause__ = exc
                except httpx.TransportError as exc:
                    self._record(operation, "unreachable", sent_at)
                    failure = SpotifyUnavailableError(
                        503, f"Spotify unreachable on {method} {path}: {type(exc).__name__}"
                    )
                    failure.__cause__ = exc
                else:
                    status = response.status_code
                    self._record(operation, str(status), sent_at)
                    if 200 <= status < 300:
                        return response
                    if status == 401 and not refreshed:
                        # The token may have been revoked or expired early: one refresh.
                        refreshed = True
                        token = await self._tokens(force_refresh=True)
                        continue
                    if status == 429:
                        wait = retry_after(response)
                        if self._metrics is not None:
                            self._metrics.spotify_rate_limited(operation, wait)
                        if (
                            wait <= policy.rate_limit_wait_cap
                            and rate_limit_waits < MAX_RATE_LIMIT_WAITS
                            and loop.time() + wait < deadline_at
                        ):
                            rate_limit_waits += 1
                            logger.info("Spotify 429 on %s %s: waiting %gs", method, path, wait)
                            # A tiny or zero Retry-After still gets a short pause.
                            await asyncio.sleep(max(wait, policy.backoff_base))
                            continue
                        message, reason = error_details(response)
                        raise SpotifyRateLimitError(message, retry_after=wait, reason=reason)
                    if status < 500:
                        message, reason = error_details(response)
                        raise SpotifyError(status, message, reason=reason)
                    message, _ = error_details(response)
                    failure = SpotifyUnavailableError(
                        503, f"Spotify failed on {method} {path}: {message}", upstream_status=status
                    )
                if not retry_failures or failures >= policy.max_retries:
                    raise failure
                step = policy.backoff_base * (2**failures)
                delay = step / 2 + random.uniform(0, step / 2)
                if loop.time() + delay >= deadline_at:
                    raise failure
                failures += 1
                logger.info(
                    "Spotify %s %s failed (%s), retry %d in %.2fs",
                    method,
                    path,
                    failure.message,
                    failures,
                    delay,
                )
                await asyncio.sleep(delay)

    def _record(self, operation: str, status: str, sent_at: float) -> None:
        if self._metrics is not None:
            self._metrics.spotify_request(operation, status, time.perf_counter() - sent_at)


def json_body(response: httpx.Response) -> Any | None:
    """The decoded JSON body, or None when it is empty or not JSON (a 2xx may be either)."""
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        return None


def error_details(response: httpx.Response) -> tuple[str, str | None]:
    """Message and player reason of an error response, whatever its shape."""
    default = response.reason_phrase or f"HTTP {response.status_code}"
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:200] or default), None
    if not isinstance(data, dict):
        return default, None
    error = data.get("error")
    if isinstance(error, dict):
        try:
            parsed = ErrorBody.model_validate(error)
        except ValidationError:
            return default, None
        return parsed.message or default, parsed.reason
    if isinstance(error, str):
        description = data.get("error_description")
        return (description if isinstance(description, str) and description else error), None
    return default, None


def retry_after(response: httpx.Response) -> float:
    """Seconds a 429 asks to wait (``DEFAULT_RETRY_AFTER`` when missing or unreadable)."""
    raw = response.headers.get("Retry-After")
    try:
        value = float(raw) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return max(value, 0.0)


__all__ = [
    "DEFAULT_RETRY_AFTER",
    "IDEMPOTENT_METHODS",
    "MAX_RATE_LIMIT_WAITS",
    "MIN_ATTEMPT_SECONDS",
    "Params",
    "RequestPolicy",
    "SpotifyTransport",
    "TokenProvider",
    "error_details",
    "json_body",
    "operation_name",
    "retry_after",
]

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
import functools
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from pydantic import ValidationError
from pydantic_core import from_json

from tunedeck.kit.background import Backoff
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


@functools.lru_cache(maxsize=256)
def _request_url(url: str, query: tuple[tuple[str, str], ...]) -> httpx.URL:
    """``url`` with ``query``, parsed once. httpx parses a URL given as a string, and again
    to add its params, on every request (pure Python, most of what building one costs);
    a parsed URL is used as it is. Every state read asks for the same four URLs."""
    return httpx.URL(url, params=query)


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
    """First backoff (seconds), doubled per retry, with jitter (``retry_backoff``); also
    the shortest pause before retrying a 429."""
    attempt_timeout: float = 5.0
    """Timeout of one HTTP attempt (seconds)."""
    deadline: float = 15.0
    """Overall time (seconds) for one public call, retries and waits included."""

    def __post_init__(self) -> None:
        if not self.backoff_base > 0:
            # Zero would retry (and answer a 429 with Retry-After 0) without any pause.
            raise ValueError("backoff_base must be positive")

    @property
    def retry_backoff(self) -> Backoff:
        """Delays before the retries after a 5xx or no answer: ``backoff_base`` doubled per
        retry, lowered at random by up to half. No cap: ``max_retries`` and the deadline
        bound them."""
        return Backoff(initial=self.backoff_base, maximum=math.inf, factor=2.0, jitter=0.5)


class SpotifyTransport:
    """Requests to the Spotify Web API for one user, under one :class:`RequestPolicy`.

    :meth:`send` passes each request down a stack of layers, each handling one kind of
    answer and handing the others up (the shape of httpx's ``Client.send``)::

        send                          the call's deadline; a 4xx left over is raised
          _send_handling_failures     5xx and no answer: retried if idempotent
            _send_handling_rate_limits  429: waited out in-line, or raised at once
              _send_handling_auth         401: one forced refresh, then sent again
                _send_single_request        one HTTP attempt, timed and counted
    """

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
            raise self._deadline_exceeded() from exc
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
        """One request with the retry rules of the module docstring; returns a 2xx.

        The outermost layer: runs the request within the call's deadline (:meth:`call`)
        and raises what the layers below handed back unhandled (a 4xx, a second 401)."""
        query = tuple(
            (key, str(value)) for key, value in (params or {}).items() if value is not None
        )
        async with self.call() as deadline_at:
            exchange = _Exchange(
                method=method,
                path=path,
                url=_request_url(self.api_url + path, query),
                body=body,
                deadline_at=deadline_at,
                token=await self._tokens(),
            )
            response = await self._send_handling_failures(exchange)
            if not response.is_success:
                message, reason = error_details(response)
                raise SpotifyError(response.status_code, message, reason=reason)
            return response

    async def _send_handling_failures(self, exchange: _Exchange) -> httpx.Response:
        """Retries a request that got a 5xx or no answer (connection error, timeout), after
        a backoff, if it is idempotent (:meth:`_back_off`).

        A POST (next, previous, queue add, playlist create and add) is never retried after
        such an ambiguous failure: the first attempt may have taken effect, and a second
        would double it. Hands up any answer below 500."""
        while True:
            try:
                response = await self._send_handling_rate_limits(exchange)
            except _NoAnswerError as no_answer:
                failure = no_answer.failure
            else:
                if response.status_code < 500:
                    return response
                message, _ = error_details(response)
                failure = SpotifyUnavailableError(
                    503,
                    f"Spotify failed on {exchange.describe()}: {message}",
                    upstream_status=response.status_code,
                )
            await self._back_off(exchange, failure)

    async def _back_off(self, exchange: _Exchange, failure: SpotifyUnavailableError) -> None:
        """Sleeps before the next retry after ``failure``, or raises it when none is due:
        the request is not idempotent, its ``max_retries`` are spent, or the backoff would
        outlast the deadline. Delays come from ``RequestPolicy.retry_backoff``."""
        if exchange.method not in IDEMPOTENT_METHODS:
            raise failure
        if exchange.failures >= self.policy.max_retries:
            raise failure
        delay = self.policy.retry_backoff.delay(exchange.failures + 1)
        if asyncio.get_running_loop().time() + delay >= exchange.deadline_at:
            raise failure
        exchange.failures += 1
        logger.info(
            "Spotify %s %s failed (%s), retry %d in %.2fs",
            exchange.method,
            exchange.path,
            failure.message,
            exchange.failures,
            delay,
        )
        await asyncio.sleep(delay)

    async def _send_handling_rate_limits(self, exchange: _Exchange) -> httpx.Response:
        """Waits out a 429 and sends again, whatever the method (a 429 was not processed),
        when :meth:`_may_wait` allows; otherwise raises :class:`SpotifyRateLimitError` at
        once with ``retry_after`` set, for the caller to decide. Hands up other answers."""
        while True:
            response = await self._send_handling_auth(exchange)
            if response.status_code != 429:
                return response
            wait = retry_after(response)
            if self._metrics is not None:
                self._metrics.spotify_rate_limited(exchange.operation, wait)
            if not self._may_wait(exchange, wait):
                message, reason = error_details(response)
                raise SpotifyRateLimitError(message, retry_after=wait, reason=reason)
            exchange.rate_limit_waits += 1
            logger.info("Spotify 429 on %s %s: waiting %gs", exchange.method, exchange.path, wait)
            # A tiny or zero Retry-After still gets a short pause.
            await asyncio.sleep(max(wait, self.policy.backoff_base))

    def _may_wait(self, exchange: _Exchange, wait: float) -> bool:
        """Whether a 429's ``wait`` is worth spending in-line: within the policy's cap,
        within ``MAX_RATE_LIMIT_WAITS`` for this request, and ending before the deadline."""
        return (
            wait <= self.policy.rate_limit_wait_cap
            and exchange.rate_limit_waits < MAX_RATE_LIMIT_WAITS
            and asyncio.get_running_loop().time() + wait < exchange.deadline_at
        )

    async def _send_handling_auth(self, exchange: _Exchange) -> httpx.Response:
        """Sends with the user's access token. A 401 (the token revoked or expired early)
        gets one forced refresh per request and is sent again, whatever the method (a 401
        was not processed); a second 401 is handed up like any other answer."""
        response = await self._send_single_request(exchange)
        if response.status_code != 401 or exchange.refreshed:
            return response
        exchange.refreshed = True
        exchange.token = await self._tokens(force_refresh=True)
        return await self._send_single_request(exchange)

    async def _send_single_request(self, exchange: _Exchange) -> httpx.Response:
        """One HTTP attempt, whatever its answer, counted in the metrics by status (or
        ``timeout``, ``unreachable``) with its duration.

        Not started with less than ``MIN_ATTEMPT_SECONDS`` of the deadline left (504); lasts
        at most ``attempt_timeout`` and what is left. An attempt that got no answer raises
        :class:`_NoAnswerError` carrying the 503/504 to raise if it is not retried."""
        remaining = exchange.deadline_at - asyncio.get_running_loop().time()
        if remaining < MIN_ATTEMPT_SECONDS:
            raise self._deadline_exceeded()
        sent_at = time.perf_counter()
        try:
            response = await self._http.request(
                exchange.method,
                exchange.url,
                json=exchange.body,
                headers={"Authorization": f"Bearer {exchange.token}"},
                timeout=min(self.policy.attempt_timeout, remaining),
            )
        except httpx.TransportError as exc:
            no_answer = _NoAnswerError.after(exchange, exc)
            self._record(exchange.operation, no_answer.label, sent_at)
            raise no_answer from exc
        self._record(exchange.operation, str(response.status_code), sent_at)
        return response

    def _deadline_exceeded(self) -> SpotifyUnavailableError:
        return SpotifyUnavailableError(
            504, f"Spotify call exceeded its {self.policy.deadline:g}s deadline"
        )

    def _record(self, operation: str, status: str, sent_at: float) -> None:
        if self._metrics is not None:
            self._metrics.spotify_request(operation, status, time.perf_counter() - sent_at)


@dataclass(eq=False)
class _Exchange:
    """One request on its way down the layers of :meth:`SpotifyTransport.send`, and what
    it has spent so far.

    The layers share it (as httpx's share a request's redirect history): the token in
    use, the one refresh, the 429 waits and the retries are budgets of the whole request,
    whichever layer spends them, so that a retry after a 5xx brings neither a second
    refresh nor fresh 429 waits.
    """

    method: str
    path: str
    url: httpx.URL
    """With the query (``_request_url``)."""
    body: Any
    deadline_at: float
    """Event-loop time by which the call must be over."""
    token: str
    refreshed: bool = False
    rate_limit_waits: int = 0
    failures: int = 0
    """Retries so far after a 5xx or no answer."""

    @property
    def operation(self) -> str:
        """The label of the request's metrics (see :func:`operation_name`)."""
        return operation_name(self.method, self.path)

    def describe(self) -> str:
        """``GET /me/player``: the request as error messages name it."""
        return f"{self.method} {self.path}"


class _NoAnswerError(Exception):
    """An attempt got no HTTP answer (connection error, timeout). Raised by the attempt,
    handled by the retry layer, which raises ``failure`` unless it retries: never seen
    outside the transport. A signal of its own rather than httpx's error, so that only
    the attempt's failures are retried, not an httpx error of the token provider's."""

    def __init__(self, failure: SpotifyUnavailableError, label: str) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.label = label
        """What the metrics count the attempt as: ``timeout`` or ``unreachable``."""

    @classmethod
    def after(cls, exchange: _Exchange, exc: httpx.TransportError) -> _NoAnswerError:
        """The failure of ``exchange`` when its attempt raised ``exc`` (its cause)."""
        if isinstance(exc, httpx.TimeoutException):
            failure = SpotifyUnavailableError(504, f"Spotify timed out on {exchange.describe()}")
            label = "timeout"
        else:
            failure = SpotifyUnavailableError(
                503, f"Spotify unreachable on {exchange.describe()}: {type(exc).__name__}"
            )
            label = "unreachable"
        failure.__cause__ = exc
        return cls(failure, label)


def json_body(response: httpx.Response) -> Any | None:
    """The decoded JSON body, or None when it is empty or not JSON (a 2xx may be either).

    Decoded by pydantic's parser straight from the bytes, in about a third less time than
    ``json.loads`` (a state read's four bodies are some 45 KB, most of it the queue).
    What it refuses (a byte order mark, a lone surrogate) is left to ``json.loads``."""
    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        return from_json(response.content)
    except ValueError:
        pass
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
    return _json_error_details(data, default)


def _json_error_details(data: dict[str, Any], default: str) -> tuple[str, str | None]:
    """Message and reason of a JSON error body: the Web API's ``{"error": {"status",
    "message", "reason"}}`` or the accounts service's ``{"error", "error_description"}``."""
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

"""The layers of ``SpotifyTransport.send`` working together, against a scripted Spotify.

The simulator cannot answer a chosen sequence (a 401, then a 503, then a 401 again),
which is what shows that the refresh, the 429 waits and the retries are budgets of the
whole request, whichever layer spends them; a scripted answerer can.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable

import httpx
import pytest

from tests.support.sleeps import SleepLog, record_sleeps
from tunedeck.kit.metrics import Metrics
from tunedeck.spotify.errors import SpotifyError, SpotifyRateLimitError, SpotifyUnavailableError
from tunedeck.spotify.transport import (
    MAX_RATE_LIMIT_WAITS,
    RequestPolicy,
    SpotifyTransport,
    json_body,
)

API = "https://api.spotify.test/v1"
POLICY = RequestPolicy(rate_limit_wait_cap=3.0, max_retries=2, backoff_base=0.01, deadline=10.0)

# An answer of the script: a status (with Retry-After 0 for a 429), or no answer at all.
Answer = int | type[httpx.TransportError]


class Script:
    """Answers requests in order from a list; records the tokens they came with."""

    def __init__(self, answers: Iterable[Answer]) -> None:
        self.answers = list(answers)
        self.tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(request.headers["Authorization"].removeprefix("Bearer "))
        answer = self.answers.pop(0)
        if not isinstance(answer, int):
            raise answer("scripted failure", request=request)
        if answer == 429:
            return httpx.Response(429, headers={"Retry-After": "0"}, json=_error(429))
        if answer >= 400:
            return httpx.Response(answer, json=_error(answer))
        return httpx.Response(answer, json={"ok": True})

    @property
    def sent(self) -> int:
        return len(self.tokens)


def _error(status: int) -> dict[str, object]:
    return {"error": {"status": status, "message": f"scripted {status}"}}


class Tokens:
    """Hands out ``token-0``, then ``token-1`` after a forced refresh, and so on."""

    def __init__(self) -> None:
        self.forced = 0

    async def __call__(self, *, force_refresh: bool = False) -> str:
        self.forced += force_refresh
        return f"token-{self.forced}"


MakeTransport = Callable[..., tuple[SpotifyTransport, Script, Tokens]]


@pytest.fixture
async def make_transport() -> AsyncIterator[MakeTransport]:
    clients: list[httpx.AsyncClient] = []

    def build(
        answers: Iterable[Answer],
        *,
        policy: RequestPolicy = POLICY,
        metrics: Metrics | None = None,
    ) -> tuple[SpotifyTransport, Script, Tokens]:
        script, tokens = Script(answers), Tokens()
        http = httpx.AsyncClient(transport=httpx.MockTransport(script))
        clients.append(http)
        transport = SpotifyTransport(http, tokens, api_url=API, policy=policy, metrics=metrics)
        return transport, script, tokens

    yield build
    for http in clients:
        await http.aclose()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    return record_sleeps(monkeypatch, "tunedeck.spotify")


async def test_one_refresh_per_request_even_across_a_retry(
    make_transport: MakeTransport, sleeps: SleepLog
) -> None:
    transport, script, tokens = make_transport([401, 503, 401])
    with pytest.raises(SpotifyError) as caught:
        await transport.send("GET", "/me")
    assert caught.value.status == 401
    assert type(caught.value) is SpotifyError
    assert tokens.forced == 1  # the retry after the 503 brought no second refresh
    assert script.tokens == ["token-0", "token-1", "token-1"]
    assert len(sleeps.delays) == 1  # the backoff before the retry


async def test_a_429_after_the_refresh_is_waited_out_with_the_new_token(
    make_transport: MakeTransport, sleeps: SleepLog
) -> None:
    transport, script, tokens = make_transport([401, 429, 204])
    response = await transport.send("POST", "/me/player/next")
    assert response.status_code == 204
    assert script.tokens == ["token-0", "token-1", "token-1"]
    assert tokens.forced == 1
    assert sleeps.delays == [POLICY.backoff_base]  # Retry-After 0: the short pause


async def test_a_401_after_a_429_wait_still_gets_its_refresh(make_transport: MakeTransport) -> None:
    transport, script, tokens = make_transport([429, 401, 200])
    assert (await transport.send("GET", "/me")).status_code == 200
    assert script.tokens == ["token-0", "token-0", "token-1"]
    assert tokens.forced == 1


async def test_429_waits_are_not_renewed_by_a_retry(make_transport: MakeTransport) -> None:
    answers: list[Answer] = [*([429] * MAX_RATE_LIMIT_WAITS), 503, 429]
    transport, script, _ = make_transport(answers)
    with pytest.raises(SpotifyRateLimitError) as caught:
        await transport.send("GET", "/me/player")
    assert caught.value.retry_after == 0
    assert script.sent == MAX_RATE_LIMIT_WAITS + 2  # the waits were spent before the 503


async def test_retries_are_not_renewed_by_a_429_wait(make_transport: MakeTransport) -> None:
    transport, script, _ = make_transport([503, 429, 502, 500, 200])
    with pytest.raises(SpotifyUnavailableError) as caught:
        await transport.send("GET", "/me/player")
    assert caught.value.upstream_status == 500
    assert script.sent == 4  # first try, a 429 waited out, max_retries (2) retries


async def test_retry_delays_are_the_policys_backoff(
    make_transport: MakeTransport, sleeps: SleepLog
) -> None:
    policy = RequestPolicy(max_retries=2, backoff_base=0.04, deadline=10.0)
    transport, script, _ = make_transport([503, 503, 503], policy=policy)
    with pytest.raises(SpotifyUnavailableError):
        await transport.send("PUT", "/me/player/pause")
    assert script.sent == 3
    first, second = sleeps.delays
    # backoff_base doubled per retry, lowered at random by up to half.
    assert policy.retry_backoff.ceiling(1) == 0.04
    assert policy.retry_backoff.ceiling(2) == 0.08
    assert 0.02 <= first <= 0.04
    assert 0.04 <= second <= 0.08


async def test_no_answer_to_a_post_is_neither_retried_nor_hidden(
    make_transport: MakeTransport, sleeps: SleepLog
) -> None:
    metrics = Metrics()
    transport, script, _ = make_transport([httpx.ConnectError], metrics=metrics)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await transport.send("POST", "/me/player/queue")
    assert caught.value.status == 503
    assert "unreachable on POST /me/player/queue: ConnectError" in caught.value.message
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert script.sent == 1
    assert sleeps.delays == []
    counted = metrics.registry.get_sample_value(
        "tunedeck_spotify_requests_total",
        {"operation": "POST /me/player/queue", "status": "unreachable"},
    )
    assert counted == 1


async def test_each_attempt_is_counted_by_its_answer(make_transport: MakeTransport) -> None:
    metrics = Metrics()
    transport, _, _ = make_transport([httpx.ReadTimeout, 401, 429, 200], metrics=metrics)
    await transport.send("GET", "/playlists/abc/items")

    def count(status: str) -> float | None:
        return metrics.registry.get_sample_value(
            "tunedeck_spotify_requests_total",
            {"operation": "GET /playlists/{id}/items", "status": status},
        )

    assert [count(status) for status in ("timeout", "401", "429", "200")] == [1, 1, 1, 1]


@pytest.mark.parametrize("base", [0.0, -0.1])
def test_backoff_base_must_be_positive(base: float) -> None:
    with pytest.raises(ValueError, match="backoff_base must be positive"):
        RequestPolicy(backoff_base=base)


@pytest.mark.parametrize(
    ("body", "decoded"),
    [
        (b'{"is_playing": true}', {"is_playing": True}),
        (b"", None),
        (b"not json", None),
        # Refused by pydantic's parser, read by json.loads as they always were.
        (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),
        (b'"\\ud800"', "\ud800"),
    ],
)
def test_json_body_decodes_what_json_loads_did(body: bytes, decoded: object) -> None:
    assert json_body(httpx.Response(200, content=body)) == decoded

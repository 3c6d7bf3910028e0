"""How the client copes with Spotify's failure modes, against the simulator's knobs:
401 refresh, 429 waits and refusals, 5xx retries (idempotent requests only), odd 2xx
answers, deadlines, development-mode search paging and the unfollow fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.support.sleeps import Hook, SleepLog, record_sleeps
from tunedeck.spotify.client import RequestPolicy, SpotifyClient
from tunedeck.spotify.errors import (
    SpotifyError,
    SpotifyInvalidGrantError,
    SpotifyRateLimitError,
    SpotifyUnavailableError,
)
from tunedeck.spotify.quirks import QuirksRegistry
from tunedeck.spotify.transport import MAX_RATE_LIMIT_WAITS

from .conftest import FAST_POLICY, MakeClient, Simulator

PHONE = "5884f603298e76b3f3351387ff2f7da4a06df065"
CURATOR_TOP = "1eI2IMpsAS7b9kEUnOBgOX"
# A grant from before the library scope was asked for: DELETE /me/library is refused.
SCOPES_WITHOUT_LIBRARY = (
    "user-read-playback-state user-modify-playback-state user-read-currently-playing "
    "playlist-read-private playlist-read-collaborative playlist-modify-private user-read-private"
)


def window_passes(sim: Simulator) -> Hook:
    """A sleep hook: while the client waits out a 429, Spotify's 30 s window passes."""

    async def advance(_: float) -> None:
        await sim.advance_clock(31)

    return advance


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    """The pauses the Spotify client asks for (Retry-After waits, backoffs)."""
    return record_sleeps(monkeypatch, "tunedeck.spotify")


class CountingTokens:
    """A token provider that always hands out the same token, counting what it is asked."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0
        self.forced = 0

    async def __call__(self, *, force_refresh: bool = False) -> str:
        self.calls += 1
        self.forced += force_refresh
        return self.token


# ---- 401 ------------------------------------------------------------------------------


async def test_401_forces_one_refresh_and_retries(sim: Simulator, make_client: MakeClient) -> None:
    client, tokens = make_client()
    await client.devices()
    assert tokens.access_token is not None
    await sim.expire(tokens.access_token)
    devices = await client.devices()
    assert devices
    assert tokens.forced == 1
    assert await sim.token_requests("refresh_token") == 1
    assert await sim.requests("GET /v1/me/player/devices") == 3  # ok, 401, retry
    # A POST refused with 401 was not processed: it is retried after the refresh too.
    before = await sim.playback()
    await sim.expire(tokens.access_token)
    await client.next()
    assert (await sim.playback())["track_uri"] == before["upcoming"][0]
    assert await sim.requests("POST /v1/me/player/next") == 2
    assert tokens.forced == 2


async def test_persistent_401_raises_after_one_refresh(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    tokens = CountingTokens("not-a-valid-token")
    client = SpotifyClient(http, tokens, api_url=sim.api_url, policy=FAST_POLICY)
    with pytest.raises(SpotifyError) as caught:
        await client.current_user()
    assert caught.value.status == 401
    assert type(caught.value) is SpotifyError
    assert tokens.calls == 2
    assert tokens.forced == 1
    assert await sim.requests("GET /v1/me") == 2
    assert "not-a-valid-token" not in str(caught.value)


async def test_refresh_refused_surfaces_invalid_grant(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, tokens = make_client()
    await client.current_user()
    assert tokens.access_token is not None
    await sim.expire(tokens.access_token)
    await sim.revoke("demo")
    with pytest.raises(SpotifyInvalidGrantError):
        await client.current_user()
    assert tokens.forced == 1
    assert await sim.requests("GET /v1/me") == 2


# ---- 429 ------------------------------------------------------------------------------


async def test_429_within_cap_waits_and_succeeds(
    sim: Simulator, make_client: MakeClient, sleeps: SleepLog
) -> None:
    client, _ = make_client()
    await sim.configure(rate_limit_per_30s=2, rate_limit_retry_after=1)
    await client.devices()
    await client.devices()
    sleeps.before = window_passes(sim)
    devices = await client.devices()  # the third one gets a 429, waits, then succeeds
    assert devices
    assert sleeps.delays == [1.0]  # it honoured Retry-After, once
    assert await sim.requests("GET /v1/me/player/devices") == 4


async def test_429_wait_applies_to_posts_too(
    sim: Simulator, make_client: MakeClient, sleeps: SleepLog
) -> None:
    client, _ = make_client()
    before = await sim.playback()
    await sim.configure(rate_limit_per_30s=1, rate_limit_retry_after=1)
    await client.current_user()
    sleeps.before = window_passes(sim)
    await client.next()
    assert sleeps.delays == [1.0]
    assert await sim.requests("POST /v1/me/player/next") == 2
    assert (await sim.playback())["track_uri"] == before["upcoming"][0]  # skipped once


async def test_429_over_cap_raises_at_once(
    sim: Simulator, make_client: MakeClient, sleeps: SleepLog
) -> None:
    client, _ = make_client()
    await sim.configure(rate_limit_per_30s=1, rate_limit_retry_after=60)
    await client.devices()
    with pytest.raises(SpotifyRateLimitError) as caught:
        await client.devices()
    assert sleeps.delays == []  # no wait at all
    assert caught.value.status == 429
    assert caught.value.retry_after == 60
    assert await sim.requests("GET /v1/me/player/devices") == 2


async def test_429_longer_than_the_deadline_raises_at_once(
    sim: Simulator, make_client: MakeClient, sleeps: SleepLog
) -> None:
    policy = RequestPolicy(rate_limit_wait_cap=5.0, backoff_base=0.01, deadline=1.0)
    client, _ = make_client(policy=policy)
    await sim.configure(rate_limit_per_30s=1, rate_limit_retry_after=3)
    await client.devices()
    with pytest.raises(SpotifyRateLimitError) as caught:
        await client.devices()
    assert sleeps.delays == []  # did not sleep 3 s into a 1 s deadline
    assert caught.value.retry_after == 3


async def test_429_retry_after_zero_is_not_hammered(
    sim: Simulator, make_client: MakeClient, sleeps: SleepLog
) -> None:
    client, _ = make_client()
    await sim.configure(rate_limit_per_30s=1, rate_limit_retry_after=0)
    await client.devices()
    with pytest.raises(SpotifyRateLimitError) as caught:
        await client.devices()
    assert caught.value.retry_after == 0
    # One try and MAX_RATE_LIMIT_WAITS retries, each after a short pause.
    assert await sim.requests("GET /v1/me/player/devices") == 1 + 1 + MAX_RATE_LIMIT_WAITS
    assert sleeps.delays == [FAST_POLICY.backoff_base] * MAX_RATE_LIMIT_WAITS


async def test_quota_exceeded(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    await sim.configure(quota_exceeded=True)
    with pytest.raises(SpotifyRateLimitError) as caught:
        await client.search_tracks("e")
    assert caught.value.reason == "QUOTA_EXCEEDED"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 86_400
    assert await sim.requests("GET /v1/search") == 1


# ---- 5xx ------------------------------------------------------------------------------

Call = Callable[[SpotifyClient], Awaitable[Any]]


@pytest.mark.parametrize(
    ("route", "call"),
    [
        ("GET /v1/me/player", lambda c: c.playback()),
        ("GET /v1/me/playlists", lambda c: c.my_playlists()),
        ("PUT /v1/me/player/pause", lambda c: c.pause()),
        ("PUT /v1/me/player/volume", lambda c: c.set_volume(10)),
        ("PUT /v1/me/player", lambda c: c.transfer_playback(PHONE)),
    ],
)
async def test_5xx_retried_for_idempotent_calls(
    sim: Simulator, make_client: MakeClient, route: str, call: Call
) -> None:
    client, _ = make_client()
    await sim.configure(error_rate=1.0)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await call(client)
    assert caught.value.status == 503
    assert caught.value.upstream_status in (500, 502, 503)
    assert await sim.requests(route) == 1 + FAST_POLICY.max_retries


@pytest.mark.parametrize(
    ("route", "call"),
    [
        ("POST /v1/me/player/next", lambda c: c.next()),
        ("POST /v1/me/player/previous", lambda c: c.previous()),
        ("POST /v1/me/player/queue", lambda c: c.add_to_queue("spotify:track:x")),
        ("POST /v1/me/playlists", lambda c: c.create_playlist("Never twice")),
        (
            "POST /v1/playlists/{playlist_id}/items",
            lambda c: c.add_playlist_items("en5Gm1iJFuXGSiFf3HOcpD", ["spotify:track:x"]),
        ),
    ],
)
async def test_5xx_never_retried_for_posts(
    sim: Simulator, make_client: MakeClient, route: str, call: Call
) -> None:
    client, _ = make_client()
    await sim.configure(error_rate=1.0)
    with pytest.raises(SpotifyUnavailableError):
        await call(client)
    assert await sim.requests(route) == 1


async def test_5xx_then_recovery_succeeds(
    sim: Simulator, make_client: MakeClient, sleeps: SleepLog
) -> None:
    policy = RequestPolicy(max_retries=2, backoff_base=0.05, deadline=10.0)
    client, _ = make_client(policy=policy)
    await client.current_user()  # token minted before the faults start
    await sim.configure(error_rate=1.0)

    async def spotify_recovers(_: float) -> None:
        await sim.configure(error_rate=0.0)

    sleeps.before = spotify_recovers  # while the client backs off after the first 5xx
    assert await client.devices()
    assert len(sleeps.delays) == 1
    assert await sim.requests("GET /v1/me/player/devices") == 2


async def test_connection_refused_is_unavailable(http: httpx.AsyncClient) -> None:
    from tests.support.servers import free_port

    tokens = CountingTokens("token")
    client = SpotifyClient(
        http, tokens, api_url=f"http://127.0.0.1:{free_port()}/v1", policy=FAST_POLICY
    )
    with pytest.raises(SpotifyUnavailableError) as caught:
        await client.devices()
    assert caught.value.status == 503
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


# ---- odd 2xx answers ------------------------------------------------------------------


@pytest.mark.parametrize("status", [202, 200])
async def test_any_2xx_command_answer_is_success(
    sim: Simulator, make_client: MakeClient, status: int
) -> None:
    client, _ = make_client()
    await sim.configure(command_status=status)
    before = await sim.playback()
    await client.pause()
    assert (await sim.playback())["is_playing"] is False
    await client.next()
    assert (await sim.playback())["track_uri"] == before["upcoming"][0]
    await client.set_volume(12)
    assert (await sim.playback())["volume_percent"] == 12
    await client.play()
    assert (await sim.playback())["is_playing"] is True
    assert await sim.requests("POST /v1/me/player/next") == 1  # accepted, not retried


# ---- deadlines and timeouts -----------------------------------------------------------


async def test_deadline_honoured_with_latency(sim: Simulator, make_client: MakeClient) -> None:
    policy = RequestPolicy(attempt_timeout=5.0, deadline=0.5, backoff_base=0.01)
    client, _ = make_client(policy=policy)
    await client.current_user()
    await sim.configure(latency_ms=3000)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await client.devices()
    # The answer (a success) is 3 s away and an attempt may last 5 s: only the 0.5 s
    # deadline can end the call with a 504.
    assert caught.value.status == 504


async def test_deadline_covers_retries(sim: Simulator, make_client: MakeClient) -> None:
    policy = RequestPolicy(attempt_timeout=0.3, deadline=2.0, max_retries=10, backoff_base=0.01)
    client, _ = make_client(policy=policy)
    await client.current_user()
    await sim.configure(latency_ms=5000)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await client.playback()
    assert caught.value.status == 504
    # Retried, but the deadline ended the call before the 10 retries ran out: each
    # attempt lasts at least its 0.3 s timeout, so at most 7 fit into 2 s.
    attempts = await sim.requests("GET /v1/me/player")
    assert 2 <= attempts <= 7


async def test_attempt_timeout_not_retried_for_post(
    sim: Simulator, make_client: MakeClient
) -> None:
    policy = RequestPolicy(attempt_timeout=0.3, deadline=5.0, backoff_base=0.01)
    client, _ = make_client(policy=policy)
    await client.current_user()
    await sim.configure(latency_ms=600)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await client.next()
    assert caught.value.status == 504
    await asyncio.sleep(0.5)  # let the simulator finish the abandoned request
    assert await sim.requests("POST /v1/me/player/next") == 1


async def test_paged_call_shares_one_deadline(sim: Simulator, make_client: MakeClient) -> None:
    policy = RequestPolicy(attempt_timeout=5.0, deadline=0.7, backoff_base=0.01)
    client, _ = make_client(policy=policy)
    await client.current_user()
    await sim.configure(latency_ms=300)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await client.my_playlists(limit=1, all_pages=True)  # 5 pages of 300 ms
    assert caught.value.status == 504
    assert await sim.requests("GET /v1/me/playlists") <= 3


# ---- development mode -----------------------------------------------------------------


async def test_dev_mode_search_pages_by_ten_and_remembers(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client()
    expected = [t.uri for t in await client.search_tracks("e", limit=20)]
    assert await sim.requests("GET /v1/search") == 1
    await sim.configure(development_mode=True)

    tracks = await client.search_tracks("e")
    assert [t.uri for t in tracks] == expected
    assert await sim.requests("GET /v1/search") == 1 + 3  # refused 20, then 10 + 10

    again = await client.search_tracks("e", offset=5)
    assert [t.uri for t in again] == [t.uri for t in await client.search_tracks("e", limit=25)][5:]
    # Another client of the same app goes straight to pages of ten: no refused call.
    sibling, _ = make_client()
    before = await sim.requests("GET /v1/search")
    assert len(await sibling.search_tracks("e")) == 20
    assert await sim.requests("GET /v1/search") == before + 2


async def test_dev_mode_registry_is_per_app(sim: Simulator, make_client: MakeClient) -> None:
    await sim.configure(development_mode=True)
    first, _ = make_client(app="dev-app-one")
    other, _ = make_client(app="dev-app-two")
    await first.search_tracks("e")
    assert await sim.requests("GET /v1/search") == 3
    await other.search_tracks("e")
    assert await sim.requests("GET /v1/search") == 6  # it had to find out for itself
    small = await first.search_tracks("e", limit=7)
    assert len(small) == 7
    assert await sim.requests("GET /v1/search") == 7


async def test_dev_mode_learned_only_within_one_registry(
    sim: Simulator, make_client: MakeClient, quirks: QuirksRegistry, http: httpx.AsyncClient
) -> None:
    """Two owners of clients (two TuneDeck apps in one process) share nothing: the same
    Spotify app id in another registry has to find out for itself."""
    await sim.configure(development_mode=True)
    first, tokens = make_client(app="dev-app")
    await first.search_tracks("e")
    assert quirks.for_app("dev-app").search_page_limit == 10
    assert await sim.requests("GET /v1/search") == 3  # refused 20, then 10 + 10

    elsewhere = SpotifyClient(
        http,
        tokens,
        api_url=sim.api_url,
        app_id="dev-app",
        policy=FAST_POLICY,
        quirks=QuirksRegistry(),
    )
    await elsewhere.search_tracks("e")
    assert await sim.requests("GET /v1/search") == 6  # refused again: nothing shared
    sibling, _ = make_client(app="dev-app")
    await sibling.search_tracks("e")
    assert await sim.requests("GET /v1/search") == 8  # same registry: pages of ten at once


async def test_search_beyond_the_api_maximum_pages_by_fifty(
    sim: Simulator, make_client: MakeClient, quirks: QuirksRegistry
) -> None:
    app = "big-search"
    client, _ = make_client(app=app)
    tracks = await client.search_tracks("e", limit=120)
    assert len(tracks) == 120
    assert len({t.uri for t in tracks}) == 120
    assert await sim.requests("GET /v1/search") == 3  # 50 + 50 + 20, none refused
    assert quirks.for_app(app).search_page_limit is None  # not mistaken for development mode


async def test_other_bad_requests_are_not_paged(sim: Simulator, make_client: MakeClient) -> None:
    client, _ = make_client()
    with pytest.raises(SpotifyError) as caught:
        await client.search_tracks("e", offset=995, limit=20)
    assert caught.value.status == 400
    assert "offset" in caught.value.message.lower()
    assert await sim.requests("GET /v1/search") == 1


# ---- unfollow fallback ----------------------------------------------------------------


async def test_delete_falls_back_to_followers_and_remembers(
    sim: Simulator, make_client: MakeClient
) -> None:
    client, _ = make_client(scope=SCOPES_WITHOUT_LIBRARY)
    created = await client.create_playlist("Old grant")
    await client.delete_playlist(created.id)
    truth = {p["id"]: p for p in await sim.playlists("demo")}
    assert truth[created.id]["in_library"] is False
    assert await sim.requests("DELETE /v1/me/library") == 1
    assert await sim.requests("DELETE /v1/playlists/{playlist_id}/followers") == 1

    await client.delete_playlist(CURATOR_TOP)
    assert CURATOR_TOP not in {p["id"] for p in await sim.playlists("demo")}
    assert await sim.requests("DELETE /v1/me/library") == 1  # went straight to followers
    assert await sim.requests("DELETE /v1/playlists/{playlist_id}/followers") == 2


async def test_delete_of_unknown_playlist_is_not_remembered_as_refusal(
    sim: Simulator, make_client: MakeClient, quirks: QuirksRegistry
) -> None:
    app = "fallback-app"
    client, _ = make_client(app=app)
    with pytest.raises(SpotifyError) as caught:
        await client.delete_playlist("0000000000000000000000")
    assert caught.value.status == 404
    assert quirks.for_app(app).library_remove_refused is False
    await client.delete_playlist(CURATOR_TOP)
    assert await sim.requests("DELETE /v1/me/library") == 2

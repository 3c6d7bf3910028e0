"""The OAuth helpers read the captured accounts-service answers, served over loopback HTTP.

A small token endpoint replays each fixture and records what the client sent, so the
wire format (Basic auth or PKCE form) is checked on real requests.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import serve_in_thread
from tunedeck.spotify.errors import (
    SpotifyInvalidGrantError,
    SpotifyTokenError,
    SpotifyUnavailableError,
)
from tunedeck.spotify.oauth import (
    SCOPES,
    SpotifyOAuth,
    check_redirect_uri,
    new_pkce_pair,
    new_state,
    pkce_challenge,
)

from .fixtures import load

SECRET = "fixture-secret-value"
REDIRECT = "http://127.0.0.1:8000/callback"


@dataclass
class Replay:
    """What the fake token endpoint answers next, and what it was sent."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    seen: list[tuple[dict[str, str], str | None]] = field(default_factory=list)


@pytest.fixture(scope="module")
def replay_server() -> Iterator[tuple[str, Replay]]:
    replay = Replay()

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        replay.seen.append(
            ({k: str(v) for k, v in form.items()}, request.headers.get("authorization"))
        )
        return JSONResponse(replay.body, status_code=replay.status)

    app = Starlette(routes=[Route("/api/token", token, methods=["POST"])])
    with serve_in_thread(app) as url:
        yield url, replay


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _answer(replay: Replay, body: dict[str, Any], status: int = 200) -> None:
    replay.status, replay.body = status, body
    replay.seen.clear()


async def test_code_exchange_with_basic_auth(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    _answer(replay, load("AuthorizationCode.json"))
    oauth = SpotifyOAuth(
        http, client_id="app", client_secret=SECRET, redirect_uri=REDIRECT, accounts_url=url
    )
    grant = await oauth.exchange_code("the-code")
    assert grant.access_token.startswith("taHZ2SdB")
    assert grant.refresh_token.startswith("b0KuPuLw")
    assert grant.expires_in == 3600
    assert grant.token_type == "Bearer"
    assert grant.scopes == {"user-read-birthdate", "user-read-email"}
    assert grant.rotated is False
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert grant.expires_at(now) == now + timedelta(hours=1)
    form, authorization = replay.seen[0]
    assert form == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT,
    }
    assert authorization == "Basic " + base64.b64encode(f"app:{SECRET}".encode()).decode()
    assert grant.access_token not in repr(grant)
    assert grant.refresh_token not in repr(grant)
    assert SECRET not in repr(oauth)


async def test_code_exchange_with_pkce(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    _answer(replay, load("AuthorizationCode.json"))
    oauth = SpotifyOAuth(http, client_id="app", redirect_uri=REDIRECT, accounts_url=url)
    verifier, _ = new_pkce_pair()
    await oauth.exchange_code("the-code", code_verifier=verifier)
    form, authorization = replay.seen[0]
    assert authorization is None
    assert form["client_id"] == "app"
    assert form["code_verifier"] == verifier
    with pytest.raises(ValueError, match="code_verifier"):
        await oauth.exchange_code("the-code")


async def test_refresh_without_new_token_keeps_the_old_one(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    _answer(replay, load("AuthorizationCodeRefresh.json"))
    oauth = SpotifyOAuth(
        http, client_id="app", client_secret=SECRET, redirect_uri=REDIRECT, accounts_url=url
    )
    grant = await oauth.refresh("old-refresh-token")
    assert grant.refresh_token == "old-refresh-token"
    assert grant.rotated is False
    assert replay.seen[0][0] == {
        "grant_type": "refresh_token",
        "refresh_token": "old-refresh-token",
    }


async def test_pkce_refresh_reports_rotation(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    answer = load("AuthorizationCodePKCERefresh.json")
    _answer(replay, answer)
    oauth = SpotifyOAuth(http, client_id="app", redirect_uri=REDIRECT, accounts_url=url)
    grant = await oauth.refresh("old-refresh-token")
    assert grant.rotated is True
    assert grant.refresh_token == answer["refresh_token"]
    assert replay.seen[0][0]["client_id"] == "app"
    # The same token coming back is not a rotation.
    _answer(replay, answer)
    again = await oauth.refresh(answer["refresh_token"])
    assert again.rotated is False


async def test_invalid_client_is_a_token_error(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    _answer(replay, load("auth-invalid-client.json"), status=400)
    oauth = SpotifyOAuth(
        http, client_id="app", client_secret=SECRET, redirect_uri=REDIRECT, accounts_url=url
    )
    with pytest.raises(SpotifyTokenError) as caught:
        await oauth.refresh("some-refresh-token")
    assert not isinstance(caught.value, SpotifyInvalidGrantError)
    assert caught.value.error == "invalid_client"
    assert caught.value.error_description == "Invalid client"
    assert caught.value.status == 400
    assert SECRET not in str(caught.value)
    assert "some-refresh-token" not in str(caught.value)


async def test_invalid_grant_has_its_own_type(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    _answer(replay, {"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400)
    oauth = SpotifyOAuth(http, client_id="app", redirect_uri=REDIRECT, accounts_url=url)
    with pytest.raises(SpotifyInvalidGrantError) as caught:
        await oauth.refresh("revoked-refresh-token")
    assert caught.value.error == "invalid_grant"
    assert "revoked-refresh-token" not in repr(caught.value)


async def test_token_endpoint_failure_is_unavailable(
    replay_server: tuple[str, Replay], http: httpx.AsyncClient
) -> None:
    url, replay = replay_server
    _answer(replay, {"error": "server_error"}, 503)
    oauth = SpotifyOAuth(http, client_id="app", redirect_uri=REDIRECT, accounts_url=url)
    with pytest.raises(SpotifyUnavailableError) as caught:
        await oauth.refresh("rt")
    assert caught.value.upstream_status == 503
    assert len(replay.seen) == 1  # never retried: a rotated token could be spent twice


async def test_authorize_url_carries_state_scopes_and_pkce(http: httpx.AsyncClient) -> None:
    oauth = SpotifyOAuth(
        http,
        client_id="app",
        redirect_uri=REDIRECT,
        accounts_url="https://accounts.example",
    )
    _, challenge = new_pkce_pair()
    state = new_state()
    url = oauth.authorize_url(state=state, code_challenge=challenge, show_dialog=True)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.example/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_id": "app",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": state,
        "scope": " ".join(SCOPES),
        "code_challenge_method": "S256",
        "code_challenge": challenge,
        "show_dialog": "true",
    }
    plain = parse_qs(urlsplit(oauth.authorize_url(state="s", scopes=["a", "b"])).query)
    assert plain["scope"] == ["a b"]
    assert "code_challenge" not in plain


def test_pkce_pair_and_state() -> None:
    verifier, challenge = new_pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    assert challenge == pkce_challenge(verifier)
    # RFC 7636 appendix B example.
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert new_pkce_pair()[0] != verifier
    assert len(new_state()) >= 32
    assert new_state() != new_state()


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://deck.example/callback", True),
        ("http://127.0.0.1:8000/callback", True),
        ("http://[::1]:8000/callback", True),
        ("http://localhost:8000/callback", False),
        ("http://deck.example/callback", False),
        ("ftp://127.0.0.1/callback", False),
    ],
)
def test_redirect_uri_rules(uri: str, ok: bool) -> None:
    if ok:
        check_redirect_uri(uri)
    else:
        with pytest.raises(ValueError, match="redirect URI"):
            check_redirect_uri(uri)


def test_scopes_cover_the_module() -> None:
    assert {
        "user-read-playback-state",
        "user-modify-playback-state",
        "user-read-currently-playing",
        "playlist-read-private",
        "playlist-read-collaborative",
        "playlist-modify-public",
        "playlist-modify-private",
        "user-read-private",
        "user-library-modify",
    } == set(SCOPES)

"""Connecting Spotify from the setup page, against the simulator standing in for
Spotify: each way it can fail is reproduced there (the streamer's app created with a
slip in it) and comes back recognised, to the page that started it, with nothing
stored; a free account connects, and the setup says what it cannot do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.setup.conftest import FreshServer
from tests.support.first_run import STREAMER_APP, STREAMER_SECRET, create_app_on_spotify
from tests.support.simulator import Sim
from tunedeck.setup import service
from tunedeck.setup.checks import public_url_problem


@pytest.fixture
async def streamer(fresh: FreshServer) -> AsyncIterator[httpx.AsyncClient]:
    """The streamer's browser, signed in by the setup's first step."""
    link = await service.prepare_link(fresh.units)
    async with fresh.client() as http:
        made = await http.post("/v1/setup/account", json={"code": link.code, "name": "chan"})
        assert made.status_code == 201, made.text
        http.headers["X-CSRF-Token"] = made.json()["session"]["csrf_token"]
        yield http


def callback_uri(fresh: FreshServer) -> str:
    return f"{fresh.base}/v1/connections/spotify/callback"


async def save_app(http: httpx.AsyncClient, secret: str = STREAMER_SECRET) -> None:
    body = {"client_id": STREAMER_APP, "client_secret": secret}
    saved = await http.put("/v1/connections/spotify/app", json=body)
    assert saved.status_code == 200, saved.text


async def connect(http: httpx.AsyncClient, login: str = "demo") -> httpx.Response:
    """Press "Connect Spotify", agree on Spotify's page: Spotify's answer to the browser
    (its own error page, or the redirect to TuneDeck's callback followed once)."""
    started = await http.get(
        "/v1/connections/spotify/authorize", params={"format": "json", "return_to": "/setup"}
    )
    assert started.status_code == 200, started.text
    consent_url = httpx.URL(started.json()["authorize_url"]).copy_add_param("login", login)
    async with httpx.AsyncClient(timeout=20) as browser:
        consent = await browser.get(consent_url)
    if consent.status_code != 302:
        return consent
    return await http.get(consent.headers["location"], headers={"Accept": "text/html"})


def returned_to(answer: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert answer.status_code == 303, answer.text
    parts = urlsplit(answer.headers["location"])
    return parts.path, parse_qs(parts.query)


async def progress(http: httpx.AsyncClient) -> dict[str, object]:
    answer = await http.get("/v1/setup")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_redirect_uri_and_steps_before_connecting(
    fresh: FreshServer, streamer: httpx.AsyncClient
) -> None:
    before = await progress(streamer)
    assert before["redirect_uri"] == callback_uri(fresh)
    assert before["public_url_problem"] is None
    assert before["next_step"] == 2
    await save_app(streamer)
    assert (await progress(streamer))["next_step"] == 3


async def test_a_redirect_uri_not_registered_gets_spotifys_own_error_page(
    fresh: FreshServer, streamer: httpx.AsyncClient, sim: Sim
) -> None:
    create_app_on_spotify(sim.base, ["http://127.0.0.1:9999/elsewhere"])
    await save_app(streamer)
    page = await connect(streamer)
    assert page.status_code == 400
    assert "INVALID_CLIENT: Invalid redirect URI" in page.text
    assert (await progress(streamer))["connection"] == "not_connected"


async def test_a_wrong_secret_comes_back_explained(
    fresh: FreshServer, streamer: httpx.AsyncClient, sim: Sim
) -> None:
    create_app_on_spotify(sim.base, [callback_uri(fresh)])
    await save_app(streamer, secret="a-slip-of-the-paste")
    assert returned_to(await connect(streamer)) == (
        "/setup",
        {"connect_error": ["spotify_app_rejected"]},
    )
    assert (await progress(streamer))["connection"] == "not_connected"


async def test_a_user_missing_from_the_apps_users_comes_back_explained(
    fresh: FreshServer, streamer: httpx.AsyncClient, sim: Sim
) -> None:
    create_app_on_spotify(sim.base, [callback_uri(fresh)], users=["curator"])
    await save_app(streamer)
    assert returned_to(await connect(streamer)) == (
        "/setup",
        {"connect_error": ["spotify_user_not_registered"]},
    )
    assert (await progress(streamer))["connection"] == "not_connected"
    # Added under User Management, the same user connects.
    create_app_on_spotify(sim.base, [callback_uri(fresh)], users=["curator", "demo"])
    assert returned_to(await connect(streamer)) == ("/setup", {"connected": ["spotify"]})
    after = await progress(streamer)
    assert after["connection"] == "active"
    assert after["spotify_problem"] is None
    assert after["next_step"] == 4


async def test_a_free_account_connects_and_the_setup_says_what_it_cannot_do(
    fresh: FreshServer, streamer: httpx.AsyncClient, sim: Sim
) -> None:
    create_app_on_spotify(sim.base, [callback_uri(fresh)])
    await save_app(streamer)
    assert returned_to(await connect(streamer, login="free")) == (
        "/setup",
        {"connected": ["spotify"]},
    )
    after = await progress(streamer)
    account = after["spotify_account"]
    assert isinstance(account, dict)
    assert (account["id"], account["premium"]) == ("free", False)
    problem = after["spotify_problem"]
    assert isinstance(problem, dict)
    assert problem["code"] == "premium_required"
    assert after["next_step"] == 4


async def test_a_localhost_public_url_is_flagged(fresh: FreshServer) -> None:
    local = fresh.settings.model_copy(update={"public_url": "http://localhost:8000"})
    problem = public_url_problem(local)
    assert problem is not None
    assert problem.code == "public_url_localhost"
    assert "http://127.0.0.1:8000" in problem.fix
    assert public_url_problem(fresh.settings) is None

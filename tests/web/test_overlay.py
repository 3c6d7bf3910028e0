"""The overlay's routes: the pages and their headers, the versioned assets, and the
album-art proxy (Spotify's image hosts and the simulator only)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.kit import storage
from tests.support import accounts
from tests.support.app import app_settings, asgi_client
from tests.support.simulator import Sim, sim, sim_server  # noqa: F401 (fixtures)
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.db import Database
from tunedeck.migrations.apply import upgrade_database
from tunedeck.web.assets import STATIC
from tunedeck.web.overlay import art_allowed, art_sources


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('overlay') / 'tunedeck.db'}"
    asyncio.run(upgrade_database(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sim: Sim) -> Settings:  # noqa: F811
    return app_settings(database_url, tmp_path, sim=sim)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        yield client


@pytest.fixture
async def overlay_token(database_url: str) -> str:
    db = Database(database_url)
    try:
        account = await accounts.create_account(db, storage.unique())
        created = await accounts.create_overlay_token(db, account, "test")
    finally:
        await db.dispose()
    return created.token


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/overlay", "/overlay/builder"])
async def test_pages_are_public_and_locked_down(
    client: httpx.AsyncClient, settings: Settings, path: str
) -> None:
    answer = await client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"
    csp = directives(answer.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"][0] == "'self'"
    assert all(
        s.startswith(("ws://127.0.0.1:8000", "wss://127.0.0.1:8000"))
        for s in csp["connect-src"][1:]
    )
    # Images: this origin, blobs (the accent's canvas) and the album-art hosts only.
    assert csp["img-src"] == ["'self'", "blob:", *art_sources(settings)]
    assert "https://i.scdn.co" in csp["img-src"]
    assert csp["frame-ancestors"] == ["'self'"]
    assert ("frame-src" in csp) == (path == "/overlay/builder")


async def test_the_simulator_is_an_art_host_only_when_spotify_is_one(settings: Settings) -> None:
    sim_origin = re.sub(r"/v1$", "", settings.spotify_api_url)
    assert sim_origin in art_sources(settings)
    real = settings.model_copy(update={"spotify_api_url": "https://api.spotify.com/v1"})
    assert art_sources(real) == [
        "https://i.scdn.co",
        "https://*.scdn.co",
        "https://*.spotifycdn.com",
    ]


@pytest.mark.parametrize("path", ["/overlay", "/overlay/builder"])
async def test_assets_are_versioned_and_cached(client: httpx.AsyncClient, path: str) -> None:
    page = (await client.get(path)).text
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    names = {url.split("/", 3)[3] for url in urls}
    assert {"overlay/icon.svg", "overlay/options.js"} <= names
    if path == "/overlay":
        assert {"overlay/overlay.js", "overlay/overlay.css", "core/feed.js"} <= names
        assert "core/playhead.js" in names
    else:
        assert {"overlay/builder.js", "core/api.js", "core/overlay_tokens.js"} <= names
    # Modules, not classic scripts on a global: one entry point, its imports preloaded.
    assert page.count('<script type="module"') == 1
    assert "<script defer" not in page
    for url in urls:
        name = url.split("/", 3)[3]
        assert url == f"/static/{STATIC.version}/{name}"
        answer = await client.get(url)
        assert answer.status_code == 200
        assert answer.content == STATIC.assets[name].body
        assert "immutable" in answer.headers["cache-control"]
    for missing in ("overlay/nothing.js", "overlay/..%2F..%2Foverlay.py", "overlay/overlay.html"):
        assert (await client.get(f"/static/{STATIC.version}/{missing}")).status_code == 404


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://i.scdn.co/image/ab67616d0000b273", True),
        ("https://mosaic.scdn.co/640/abc", True),
        ("https://image-cdn-ak.spotifycdn.com/image/abc", True),
        ("http://i.scdn.co/image/abc", False),  # https only
        ("https://i.scdn.co:8443/image/abc", False),
        ("https://i.scdn.co.example.com/image/abc", False),
        ("https://example.com/i.scdn.co/abc", False),
        ("https://user@i.scdn.co/image/abc", False),
        ("https://notscdn.co/image/abc", False),
        ("file:///etc/passwd", False),
    ],
)
def test_the_art_proxy_fetches_from_spotify_image_hosts_only(url: str, allowed: bool) -> None:
    settings = Settings(spotify_api_url="https://api.spotify.com/v1")
    assert art_allowed(url, settings) is allowed


def test_the_art_proxy_fetches_from_the_simulator_origin_only() -> None:
    settings = Settings(spotify_api_url="http://127.0.0.1:8090/spotify-sim/v1")
    assert art_allowed("http://127.0.0.1:8090/spotify-sim/images/a/640.svg", settings)
    assert not art_allowed("http://127.0.0.1:8091/images/a/640.svg", settings)
    assert not art_allowed("http://localhost:8090/images/a/640.svg", settings)


async def test_the_art_proxy_serves_a_cover_to_an_overlay_token(
    client: httpx.AsyncClient,
    sim: Sim,  # noqa: F811
    overlay_token: str,
) -> None:
    album = next(iter(sim.state.catalog.albums))
    cover = f"{sim.base}/images/{album}/64.svg"
    assert (await client.get("/overlay/art", params={"url": cover})).status_code == 401

    auth = {"Authorization": f"Bearer {overlay_token}"}
    answer = await client.get("/overlay/art", params={"url": cover}, headers=auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.content.startswith(b"<svg")
    assert "sandbox" in answer.headers["content-security-policy"]

    refused = await client.get(
        "/overlay/art", params={"url": "https://example.com/a.png"}, headers=auth
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "bad_art_url"

    missing = await client.get(
        "/overlay/art", params={"url": f"{sim.base}/images/nothing/64.svg"}, headers=auth
    )
    assert missing.status_code == 502

"""The dashboard's page and files as served: public, same-origin only (CSP), no referrer,
ETags and gzip, nothing outside its folder, the OAuth callback's notice, and every module
the page loads is one the server has."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.kit import storage
from tests.support.app import asgi_client
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.web.routes import ASSETS, DASHBOARD_DIR


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'pages.db'}",
        encryption_keys=storage.TEST_KEYRING.serialize(),
        data_dir=tmp_path,
    )
    async with asgi_client(create_app(settings)) as client:
        yield client


async def test_the_dashboard_is_served_at_the_root(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'id="signin-key"' in page.text
    assert "Spotify is connected." not in page.text
    # Everything the page loads comes from TuneDeck itself.
    for src in re.findall(r'(?:src|href)="([^"#]+)"', page.text):
        assert src.startswith("/"), src


async def test_the_oauth_callback_result_is_shown(client: httpx.AsyncClient) -> None:
    page = await client.get("/", params={"connected": "spotify"})
    assert '<p id="notice" class="notice" role="status">Spotify is connected.</p>' in page.text


async def test_files_have_etags_and_are_gzipped(client: httpx.AsyncClient) -> None:
    script = await client.get("/dashboard/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-encoding"] == "gzip"
    assert script.text == (DASHBOARD_DIR / "js" / "main.js").read_text()
    again = await client.get(
        "/dashboard/js/main.js", headers={"If-None-Match": script.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path", ["nope.js", "../routes.py", "..%2Froutes.py", "index.html", "js/../../routes.py"]
)
async def test_nothing_outside_the_folder(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(f"/dashboard/{path}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


async def test_every_module_imported_is_served() -> None:
    for name, asset in ASSETS.items():
        if not name.endswith(".js"):
            continue
        for imported in re.findall(r'from "\./([\w.]+)"', asset.body.decode()):
            assert f"js/{imported}" in ASSETS, f"{name} imports {imported}"
    index = ASSETS["index.html"].body.decode()
    for preload in re.findall(r'href="/dashboard/(js/[\w.]+)"', index):
        assert preload in ASSETS

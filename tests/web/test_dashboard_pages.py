"""The dashboard's page and files as served: public, same-origin only (CSP), no referrer,
ETags and gzip, versioned URLs cached for good, nothing outside the static folders, the
OAuth callback's notice, and every module a page imports is one the server has."""

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
from tunedeck.web.assets import STATIC, WEB_DIR
from tunedeck.web.routes import DASHBOARD_DIR


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
    page = (await client.get("/")).text
    url = re.search(r'src="(/static/[0-9a-f]+/dashboard/js/main\.js)"', page)
    assert url is not None, page[:2000]
    script = await client.get(url.group(1), headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-encoding"] == "gzip"
    assert "immutable" in script.headers["cache-control"]
    assert script.text == (DASHBOARD_DIR / "js" / "main.js").read_text()
    again = await client.get(url.group(1), headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    # The unversioned URL (GraphiQL's icon links to it) is revalidated, not cached for good.
    icon = await client.get("/dashboard/icon.svg")
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == "no-cache"


async def test_another_versions_files_are_not_served(client: httpx.AsyncClient) -> None:
    """A page of the version before an upgrade asking for its modules gets a 404, never
    the new version's file under the old URL (which would mix two versions in a page)."""
    current = await client.get(f"/static/{STATIC.version}/core/feed.js")
    assert current.status_code == 200
    stale = await client.get("/static/0123456789abcdef/core/feed.js")
    assert stale.status_code == 404
    assert stale.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        "nope.js",
        "../routes.py",
        "..%2Froutes.py",
        "index.html",
        "js/../../routes.py",
        "..%2Fcore%2Ffeed.js",
    ],
)
async def test_nothing_outside_the_folder(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(f"/dashboard/{path}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    versioned = await client.get(f"/static/{STATIC.version}/dashboard/{path}")
    assert versioned.status_code == 404


async def test_every_module_imported_is_served() -> None:
    """Every relative import of every module names a served file, and each page preloads
    exactly the modules its entry point imports."""
    for name, asset in STATIC.assets.items():
        if not name.endswith(".js"):
            continue
        source = asset.body.decode()
        specifiers = re.findall(r'^(?:import|export)[^;]*?"(\.{1,2}/[^"]+)";', source, re.M)
        assert len(specifiers) == len(STATIC.imports[name]), name
        for target in STATIC.imports[name]:
            assert target in STATIC.assets, f"{name} imports {target}"
    pages = {
        "dashboard/js/main.js": (WEB_DIR / "dashboard" / "index.html"),
        "overlay/overlay.js": (WEB_DIR / "overlay" / "overlay.html"),
        "overlay/builder.js": (WEB_DIR / "overlay" / "builder.html"),
    }
    for entry, html in pages.items():
        rendered = STATIC.render(html.read_text())
        preloaded = re.findall(r'rel="modulepreload" href="/static/[0-9a-f]+/([^"]+)"', rendered)
        assert sorted(preloaded) == sorted(STATIC.module_graph(entry)[1:]), entry
        assert any(name.startswith("core/") for name in preloaded), entry


def test_the_store_owns_the_dashboards_state() -> None:
    """Feature modules hold no page state of their own at module level, never assign the
    store's state, and publish and subscribe to named topics only (TOPIC.X)."""
    modules = {
        name: asset.body.decode()
        for name, asset in STATIC.assets.items()
        if name.startswith("dashboard/js/") and name.endswith(".js")
    }
    assert "dashboard/js/store.js" in modules
    for name, source in modules.items():
        assert not re.findall(r"^(?:let|var)\s", source, re.M), f"{name}: module-level let/var"
        if name == "dashboard/js/store.js":
            continue
        assert not re.findall(r"\b(?:state|store)\.\w+\s*=[^=]", source), f"{name} writes state"
        for call in re.findall(r"\b(?:on|emit)\(([^,)]+)", source):
            assert call.startswith("TOPIC."), f"{name}: topic {call} is not a named constant"

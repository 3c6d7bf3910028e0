"""The API's pages for people, in Chromium: Swagger UI at /docs and GraphiQL at
/graphiql render with nothing loaded from another host, and GraphiQL runs operations
with the dashboard's session (its CSRF token included) or with a key."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Request, expect

from tests.browser.conftest import DemoServer
from tests.browser.dashboard_support import sign_in

pytestmark = pytest.mark.browser


def test_the_docs_page_renders_from_tunedeck_alone(
    browser: Browser, demo_server: DemoServer, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    refused: list[str] = []

    def seen(request: Request) -> None:
        requested.append(request.url)

    page = context.new_page()
    page.on("request", seen)
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(f"{demo_server.origin}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("TuneDeck", timeout=30_000)
        # The operations are listed: the description was fetched and read.
        expect(page.get_by_text("/v1/spotify/playback").first).to_be_attached()
        page.screenshot(path=str(tmp_path / "docs.png"))
    finally:
        context.close()
    elsewhere = [
        url for url in requested if not url.startswith((demo_server.origin, "data:", "blob:"))
    ]
    assert elsewhere == []
    assert any(url.endswith("/openapi.json") for url in requested)
    assert refused == []


def test_redoc_is_not_served(demo_server: DemoServer) -> None:
    """ReDoc's page fetches its logo from redocly's CDN whatever it is told."""
    assert httpx.get(f"{demo_server.origin}/redoc", timeout=10).status_code == 404


def _outside(requested: list[str], origin: str) -> list[str]:
    return [url for url in requested if not url.startswith((origin, "data:", "blob:"))]


def test_graphiql_runs_queries_with_the_dashboard_session(
    browser: Browser, demo_server: DemoServer, tmp_path: Path
) -> None:
    context = browser.new_context(
        base_url=demo_server.origin, viewport={"width": 1440, "height": 900}
    )
    requested: list[str] = []
    refused: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        # A load the CSP blocks fires no request: the console says so instead.
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        sign_in(page, demo_server.admin_key)
        page.goto("/graphql")  # a browser opening the endpoint lands on GraphiQL
        expect(page).to_have_url(f"{demo_server.origin}/graphiql")
        expect(page.locator("#signin")).to_be_hidden()
        page.locator(".graphiql-execute-button").click()
        result = page.locator(".result-window")
        # The demo plays from the start: the answer holds the track, not an error.
        expect(result).to_contain_text('"isPlaying"', timeout=30_000)
        expect(result).not_to_contain_text('"errors"')
        page.screenshot(path=str(tmp_path / "graphiql.png"))
    finally:
        context.close()
    assert _outside(requested, demo_server.origin) == []
    assert refused == []
    assert any(
        url.endswith("/graphiql/assets/vendor/graphiql@3.8.3/graphiql.min.js") for url in requested
    )


def test_graphiql_without_a_session_says_how_to_sign_in(
    browser: Browser, demo_server: DemoServer
) -> None:
    context = browser.new_context(base_url=demo_server.origin)
    try:
        page = context.new_page()
        page.goto("/graphiql")
        expect(page.locator("#signin")).to_be_visible()
        expect(page.locator("#signin a")).to_have_attribute("href", "/")
        page.locator(".graphiql-execute-button").click()
        # The key-less request is refused by the server, and GraphiQL shows it.
        expect(page.locator(".result-window")).to_contain_text("unauthorized", timeout=30_000)
    finally:
        context.close()


def test_graphiql_s_page_is_served_only_with_its_headers(demo_server: DemoServer) -> None:
    page = httpx.get(f"{demo_server.origin}/graphiql", timeout=10)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # The assets folder holds the scripts and styles, not a second copy of the page.
    assert httpx.get(f"{demo_server.origin}/graphiql/assets/index.html").status_code == 404
    assert httpx.get(f"{demo_server.origin}/graphiql/assets/boot.js").status_code == 200


# Everything a page of this origin keeps in the browser, as text: localStorage,
# sessionStorage, every IndexedDB database's every record, and the Cache Storage's
# request URLs.
READ_BROWSER_STORAGE = """async () => {
  const dump = (storage) =>
    Object.keys(storage).map((key) => key + "=" + storage.getItem(key)).join("\\n");
  const records = [];
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const opening = indexedDB.open(info.name);
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error);
    });
    for (const name of Array.from(db.objectStoreNames)) {
      const all = await new Promise((resolve, reject) => {
        const reading = db.transaction(name, "readonly").objectStore(name).getAll();
        reading.onsuccess = () => resolve(reading.result);
        reading.onerror = () => reject(reading.error);
      });
      records.push(info.name + "/" + name + ": " + JSON.stringify(all));
    }
    db.close();
  }
  const cached = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) cached.push(request.url);
  }
  return {
    localStorage: dump(localStorage),
    sessionStorage: dump(sessionStorage),
    indexedDB: records.join("\\n"),
    caches: cached.join("\\n"),
  };
}"""

# A mark left in each storage first: the reading above finds what is there.
LEAVE_CANARIES = """async (canary) => {
  localStorage.setItem("test-canary", canary);
  sessionStorage.setItem("test-canary", canary);
  await new Promise((resolve, reject) => {
    const opening = indexedDB.open("test-canary");
    opening.onupgradeneeded = () => opening.result.createObjectStore("marks");
    opening.onsuccess = () => {
      const db = opening.result;
      const writing = db.transaction("marks", "readwrite");
      writing.objectStore("marks").put(canary, "mark");
      writing.oncomplete = () => { db.close(); resolve(); };
      writing.onerror = () => reject(writing.error);
    };
    opening.onerror = () => reject(opening.error);
  });
}"""


def test_graphiql_keeps_no_pasted_key_in_browser_storage(
    browser: Browser, demo_server: DemoServer
) -> None:
    """A key pasted in GraphiQL's Headers tab and used for a query is written to no
    browser storage: not with the query history, the tabs or the settings."""
    key = demo_server.admin_key
    secret_part = key.split("_", 1)[1]
    canary = f"canary-{secrets.token_hex(8)}"
    context = browser.new_context(base_url=demo_server.origin)
    try:
        page = context.new_page()
        page.goto("/graphiql")
        expect(page.locator("#signin")).to_be_visible()  # no session: the key is the way
        page.evaluate(LEAVE_CANARIES, canary)
        page.locator(".graphiql-editor-tools").get_by_text("Headers", exact=True).click()
        headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
        headers.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(f'{{"Authorization": "Bearer {key}"}}')  # as a paste does
        page.locator(".graphiql-execute-button").click()
        result = page.locator(".result-window")
        expect(result).to_contain_text('"isPlaying"', timeout=30_000)
        # A second run and a second tab: history and tab state have had their writes.
        page.locator(".graphiql-execute-button").click()
        page.locator(".graphiql-tab-add").click()
        stored = page.evaluate(READ_BROWSER_STORAGE)
        cookies = context.cookies()
    finally:
        context.close()
    for where in ("localStorage", "sessionStorage", "indexedDB"):
        assert canary in stored[where], where  # the reading sees what is there
    for where, text in stored.items():
        assert secret_part not in text, where
    assert all(secret_part not in cookie["value"] for cookie in cookies)

"""Browser fixtures: Chromium (see tests/support/browser.py) driven by Playwright, and a
real demo server."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from tests.support.browser import INSTALL_HINT, find_chromium
from tests.support.demo import start_demo
from tests.support.services import in_ci
from tunedeck.simulator.catalog import LocalFile

# Without the networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module: Playwright's sync API runs an event loop on this
    thread while it is open, which the asyncio tests of other modules cannot share.

    No Chromium installed: skipped with how to install one, failed under CI=true."""
    chromium = find_chromium()
    if chromium is None:
        if in_ci():
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(INSTALL_HINT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class DemoServer:
    """``tunedeck demo`` running in its own process."""

    origin: str
    admin_key: str


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo exactly as a streamer starts it, on a free port with its own data dir."""
    demo = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield DemoServer(demo.origin, demo.admin_key)
    finally:
        demo.stop()


# -- the overlay (tests/browser/test_overlay*.py) ---------------------------------------

SIM_PREFIX = "/spotify-sim"


@dataclass
class OverlayToken:
    """An overlay token minted through the API, and its overlay URL (token in the fragment)."""

    id: str
    token: str
    url: str


def mint_overlay_token(server: DemoServer, label: str = "OBS") -> OverlayToken:
    answer = httpx.post(
        f"{server.origin}/v1/overlay-tokens",
        headers={"Authorization": f"Bearer {server.admin_key}"},
        json={"label": label},
        timeout=10,
    )
    answer.raise_for_status()
    body = answer.json()
    return OverlayToken(body["id"], body["token"], body["overlay_url"])


def revoke_overlay_token(server: DemoServer, token_id: str) -> None:
    answer = httpx.delete(
        f"{server.origin}/v1/overlay-tokens/{token_id}",
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=10,
    )
    assert answer.status_code == 204, answer.text


@dataclass
class SimControl:
    """The demo's simulator, driven over HTTP "in the Spotify app" (user ``demo``)."""

    base: str
    user: str = "demo"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{self.base}/_sim/users/{self.user}{path}", json=body, timeout=10)
        assert answer.is_success, f"{path}: {answer.status_code} {answer.text}"
        return dict(answer.json())

    def app_action(self, action: str, **body: Any) -> dict[str, Any]:
        return self._post("/app-actions", {"action": action, **body})

    def withdraw_authorization(self) -> None:
        """As if the user removed the app in their Spotify account: the refresh tokens
        refused and the access tokens expired."""
        for step in ("revoke", "expire"):
            answer = httpx.post(
                f"{self.base}/_sim/tokens/{step}", json={"user": self.user}, timeout=10
            )
            assert answer.is_success, f"{step}: {answer.status_code} {answer.text}"

    def start_ad(self, seconds: float = 30) -> dict[str, Any]:
        return self._post("/ad", {"seconds": seconds})

    def end_ad(self) -> None:
        httpx.delete(f"{self.base}/_sim/users/{self.user}/ad", timeout=10).raise_for_status()

    def playback(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base}/_sim/users/{self.user}/playback", timeout=10)
        answer.raise_for_status()
        return dict(answer.json())

    def shows(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.base}/_sim/shows", timeout=10)
        answer.raise_for_status()
        return list(answer.json())

    def play_local_file(self, artist: str, title: str, seconds: int = 240) -> None:
        uri = LocalFile(artist, "", title, seconds).uri
        self.app_action("play", uris=[uri])

    def play_episode(self) -> dict[str, Any]:
        show = self.shows()[0]
        episode = show["episodes"][0]
        self.app_action("play", context_uri=show["uri"], offset={"uri": episode["uri"]})
        return dict(episode)


@pytest.fixture(scope="module")
def sim_control(demo_server: DemoServer) -> SimControl:
    return SimControl(demo_server.origin + SIM_PREFIX)


def now_playing(server: DemoServer) -> dict[str, Any] | None:
    """What TuneDeck's REST API says plays now."""
    answer = httpx.get(
        f"{server.origin}/v1/spotify/state",
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    value = answer.json()["now_playing"]
    return dict(value) if value is not None else None


# The dashboard's fixtures (tests/browser/test_dashboard*.py): a signed-in page, the
# simulator's control API and the admin's API on the demo's port.
from tests.browser.dashboard_support import dashboard, dashboard_api, dashboard_sim  # noqa: E402, F401


@contextmanager
def demo_process(data_dir: Path, port: int) -> Iterator[tuple[subprocess.Popen[str], DemoServer]]:
    """``tunedeck demo`` on ``port`` with ``data_dir``, for a test that stops it (SIGKILL
    included) and starts it again on the same port and data: the same overlay tokens."""
    demo = start_demo(data_dir, port)
    try:
        yield demo.process, DemoServer(demo.origin, demo.admin_key)
    finally:
        demo.stop()


# ms: a change reaches the page within one poll (3 s); this is a ceiling, not a measure.
LIVE = 20_000
CURRENT = "#overlay .slot:not(.leaving)"
TITLE = f"{CURRENT} .text:not(.copy) .title"
PROGRESS_JS = """() => {
    const fill = document.querySelector('#overlay .fill');
    const m = new DOMMatrix(getComputedStyle(fill).transform);
    return 1 + m.m41 / fill.offsetWidth;
}"""


@dataclass
class Overlay:
    """An overlay page open in Chromium, and what it logged to the console."""

    page: Page
    console: list[str] = field(default_factory=list)

    @property
    def root(self) -> Locator:
        return self.page.locator("#overlay")

    def item(self) -> str | None:
        value = self.root.get_attribute("data-current")
        return str(value) if value is not None else None

    def wait_for_item(self, uri: str) -> None:
        expect(self.root).to_have_attribute("data-item", uri, timeout=LIVE)

    def progress(self) -> float:
        return float(self.page.evaluate(PROGRESS_JS))

    def title(self) -> str:
        return self.page.locator(TITLE).inner_text()


def open_overlay(context: BrowserContext, url: str, options: str = "") -> Overlay:
    """Open the overlay at ``url`` (plus ``options``, joined to its fragment) and wait for
    its feed to say hello."""
    page = context.new_page()
    overlay = Overlay(page)

    def keep(message: ConsoleMessage) -> None:
        overlay.console.append(message.text)

    page.on("console", keep)
    page.goto(url + (f"&{options}" if options else ""))
    expect(overlay.root).to_have_attribute("data-feed", "open", timeout=LIVE)
    return overlay


@pytest.fixture
def overlay_context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookie) with a 1280x720 window."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        yield context
    finally:
        context.close()


def playback_command(server: DemoServer, action: str, **body: Any) -> None:
    """A playback command sent through TuneDeck's API (the poller looks again right after)."""
    answer = httpx.post(
        f"{server.origin}/v1/spotify/playback",
        headers={"Authorization": f"Bearer {server.admin_key}"},
        json={"action": action, **body},
        timeout=10,
    )
    assert answer.is_success, answer.text

"""What the dashboard's browser tests share: the simulator's control API on the demo's port,
keys of the demo account, signing in as a person does, and the fixtures built on them.

conftest.py exposes the fixtures (``dashboard``, ``dashboard_sim``, ``dashboard_api``); the
``demo_server`` and ``browser`` fixtures they use are conftest's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

if TYPE_CHECKING:
    from tests.browser.conftest import DemoServer

#: Generous: the live feed, the poller and Spotify's answers all take their time on a busy
#: machine. A test waits for what it expects, up to this; it never asserts elapsed time.
LIVE_TIMEOUT_MS = 20_000
SIM_PREFIX = "/spotify-sim"


@dataclass
class Sim:
    """The demo's simulator through its control API (``<origin>/spotify-sim/_sim/...``)."""

    origin: str
    user: str = "demo"

    def _url(self, path: str) -> str:
        return f"{self.origin}{SIM_PREFIX}/_sim{path}"

    def playback(self) -> dict[str, Any]:
        response = httpx.get(self._url(f"/users/{self.user}/playback"), timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def playlists(self) -> list[dict[str, Any]]:
        response = httpx.get(self._url(f"/users/{self.user}/playlists"), timeout=10)
        response.raise_for_status()
        return list(response.json())

    def app_action(self, action: str, **body: Any) -> dict[str, Any]:
        """A change made "in the Spotify app" (on the streamer's phone)."""
        response = httpx.post(
            self._url(f"/users/{self.user}/app-actions"),
            json={"action": action, **body},
            timeout=10,
        )
        assert response.is_success, response.text
        return dict(response.json())

    def knobs(self, **changes: Any) -> dict[str, Any]:
        response = httpx.patch(self._url("/config"), json=changes, timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def stats(self) -> dict[str, Any]:
        """The simulator's counters: Web API requests by route template (``requests``)."""
        response = httpx.get(self._url("/stats"), timeout=10)
        response.raise_for_status()
        return dict(response.json())


class Api:
    """TuneDeck's REST API with the demo's admin key (for set-up and checks)."""

    def __init__(self, server: DemoServer) -> None:
        self.origin = server.origin
        self.headers = {"Authorization": f"Bearer {server.admin_key}"}

    def request(
        self, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Call ``path`` with the admin key, or with ``key``."""
        headers = {"Authorization": f"Bearer {key}"} if key else self.headers
        return httpx.request(method, f"{self.origin}{path}", headers=headers, timeout=15, **kwargs)

    def create_key(self, label: str, *permissions: str) -> dict[str, Any]:
        response = self.request(
            "POST", "/v1/keys", json={"label": label, "permissions": permissions}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def revoke_key(self, key_id: str) -> None:
        assert self.request("DELETE", f"/v1/keys/{key_id}").status_code == 204


def wait_until(
    check: Callable[[], bool], what: str, timeout: float = LIVE_TIMEOUT_MS / 1000
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def sim_has(sim: Sim, what: str, check: Callable[[dict[str, Any]], bool]) -> None:
    """Wait until the simulator's playback satisfies ``check``."""
    wait_until(lambda: check(sim.playback()), what)


def sign_in(page: Page, key: str) -> None:
    """Open the dashboard and sign in by pasting ``key``, as a person does."""
    page.goto("/")
    page.locator("#signin-key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#app")).to_be_visible()


def new_context(browser: Browser, server: DemoServer, **options: Any) -> BrowserContext:
    viewport = options.pop("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(base_url=server.origin, viewport=viewport, **options)
    context.set_default_timeout(LIVE_TIMEOUT_MS)
    return context


@pytest.fixture(scope="module")
def dashboard_sim(demo_server: DemoServer) -> Sim:
    return Sim(demo_server.origin)


@pytest.fixture(scope="module")
def dashboard_api(demo_server: DemoServer) -> Api:
    return Api(demo_server)


@pytest.fixture
def dashboard(browser: Browser, demo_server: DemoServer) -> Iterator[Page]:
    """A fresh browser context, signed in to the dashboard with the demo's admin key."""
    expect.set_options(timeout=LIVE_TIMEOUT_MS)
    context = new_context(browser, demo_server)
    page = context.new_page()
    try:
        sign_in(page, demo_server.admin_key)
        yield page
    finally:
        context.close()

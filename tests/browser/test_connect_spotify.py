"""A streamer connects Spotify from a browser, against the demo server and its simulator."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser


def test_connect_spotify_in_the_browser_lands_on_home(
    browser: Browser, demo_server: DemoServer, tmp_path: Path
) -> None:
    context = browser.new_context(base_url=demo_server.origin)
    page = context.new_page()
    try:
        # Sign in: the key becomes an HttpOnly session cookie in the browser.
        signed_in = page.request.post("/v1/session", data={"key": demo_server.admin_key})
        assert signed_in.ok, signed_in.text()
        cookie = next(c for c in context.cookies() if c["name"] == "tunedeck_session")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"

        csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"]}

        # Start from a disconnected account, as a streamer on first setup.
        assert page.request.delete("/v1/connections/spotify", headers=csrf).ok
        status = page.request.get("/v1/connections/spotify").json()
        assert status["connected"] is False

        # Connect: TuneDeck -> the accounts service (approves at once) -> callback -> home.
        page.goto("/v1/connections/spotify/authorize")
        expect(page.locator("#notice")).to_have_text("Spotify is connected.")
        assert page.url.startswith(f"{demo_server.origin}/?")
        assert "connected=spotify" in page.url
        page.screenshot(path=str(tmp_path / "connected.png"))

        status = page.request.get("/v1/connections/spotify").json()
        assert status["connected"] is True
        assert status["spotify_user_id"] == "demo"
    finally:
        context.close()

    # The new connection works for the API: the simulator's demo user is playing.
    state = httpx.get(
        f"{demo_server.origin}/v1/spotify/state",
        headers={"Authorization": f"Bearer {demo_server.admin_key}"},
        timeout=10,
    )
    assert state.status_code == 200
    assert state.json()["now_playing"]["track"]["uri"].startswith("spotify:track:")

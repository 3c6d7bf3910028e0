"""The overlay outlives its server: killed, the page keeps the last track on screen;
started again, the page reconnects by itself (no reload) and follows what plays."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import (
    SIM_PREFIX,
    SimControl,
    demo_process,
    mint_overlay_token,
    open_overlay,
)
from tests.support.servers import free_port

pytestmark = pytest.mark.browser

# ms: the page's backoff grows to ~8 s after a few failed tries; the demo restarts in a few.
RECOVERY = 60_000


def test_killing_and_restarting_the_server_recovers_without_a_reload(
    overlay_context: BrowserContext, tmp_path: Path
) -> None:
    port = free_port()
    with demo_process(tmp_path, port) as (first, server):
        sim = SimControl(server.origin + SIM_PREFIX)
        sim.app_action("play")
        token = mint_overlay_token(server)
        overlay = open_overlay(overlay_context, token.url)
        before = str(sim.playback()["track_uri"])
        overlay.wait_for_item(before)
        overlay.page.evaluate("() => { window.__sameDocument = true; }")

        # What the page shows as the server dies (on a loaded machine the track may have
        # moved on since it was read).
        shown = overlay.item()
        first.kill()  # no goodbye: the socket just drops
        first.wait(timeout=15)
        expect(overlay.root).not_to_have_attribute("data-feed", "open", timeout=RECOVERY)
        # Never blank: the last track stays while the page retries.
        expect(overlay.root).to_have_attribute("data-visible", "true")
        assert overlay.item() == shown

    with demo_process(tmp_path, port) as (_, server):
        sim = SimControl(server.origin + SIM_PREFIX)
        sim.app_action("play")
        expect(overlay.root).to_have_attribute("data-feed", "open", timeout=RECOVERY)
        overlay.wait_for_item(str(sim.playback()["track_uri"]))
        sim.app_action("next")
        overlay.wait_for_item(str(sim.playback()["track_uri"]))
        assert overlay.page.evaluate("() => window.__sameDocument === true")
        expect(overlay.root).to_have_attribute("data-connects", "2")
        assert any("reconnecting in" in line for line in overlay.console), overlay.console


def test_needs_reauth_is_shown_only_when_asked_and_the_track_stays(
    overlay_context: BrowserContext, tmp_path: Path
) -> None:
    """Spotify refusing the account's refresh token: the overlay opened with ``status=1``
    says so; the one without keeps showing the last track, no message. (Its own demo:
    the account stays disconnected.)"""
    with demo_process(tmp_path, free_port()) as (_, server):
        sim = SimControl(server.origin + SIM_PREFIX)
        sim.app_action("play")
        token = mint_overlay_token(server)
        told = open_overlay(overlay_context, token.url, "status=1")
        quiet = open_overlay(overlay_context, token.url)
        playing = str(sim.playback()["track_uri"])
        for overlay in (told, quiet):
            overlay.wait_for_item(playing)
            expect(overlay.page.locator("#overlay .status")).to_be_hidden()

        # The next poll's 401 leads to a refused refresh: the account needs connecting.
        sim.withdraw_authorization()

        expect(told.page.locator("#overlay .status")).to_contain_text(
            "Spotify needs to be reconnected", timeout=RECOVERY
        )
        expect(told.root).to_have_attribute("data-visible", "true")
        told.page.screenshot(path=str(tmp_path / "needs-reauth.png"))
        expect(quiet.page.locator("#overlay .status")).to_be_hidden()
        expect(quiet.root).to_have_attribute("data-visible", "true")
        assert quiet.item() == playing

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

        first.kill()  # no goodbye: the socket just drops
        first.wait(timeout=15)
        expect(overlay.root).not_to_have_attribute("data-feed", "open", timeout=RECOVERY)
        # Never blank: the last track stays while the page retries.
        expect(overlay.root).to_have_attribute("data-visible", "true")
        assert overlay.item() == before

    with demo_process(tmp_path, port) as (_, server):
        sim = SimControl(server.origin + SIM_PREFIX)
        sim.app_action("play")
        expect(overlay.root).to_have_attribute("data-feed", "open", timeout=RECOVERY)
        overlay.wait_for_item(str(sim.playback()["track_uri"]))
        sim.app_action("next")
        overlay.wait_for_item(str(sim.playback()["track_uri"]))
        assert overlay.page.evaluate("() => window.__sameDocument === true")
        assert overlay.page.evaluate("() => TuneDeck.overlay.state().connects") == 2
        assert any("reconnecting in" in line for line in overlay.console), overlay.console

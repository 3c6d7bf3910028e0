"""The dashboard and the overlay of one account show the same playhead: both draw it from
the shared core's model (clock-synced to the feed's ``server_time``, holding rather than
jumping back a little), so their bars agree within 250 ms, across a seek in the Spotify
app, a seek made on the dashboard and a track change.

The overlay is opened in a frame of the dashboard's page, so one script reads both bars
in the same animation frame: no two wall clocks are compared."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import mint_overlay_token
from tests.browser.dashboard_support import Sim, wait_until

pytestmark = pytest.mark.browser

AGREEMENT_MS = 250
# Where each page's bar ends, as a fraction of its track (transforms included: what is
# on screen), read from the dashboard and its overlay frame at the same instant.
BARS_JS = """() => {
    const end = (doc, fill, track) => {
        const f = doc.querySelector(fill).getBoundingClientRect();
        const t = doc.querySelector(track).getBoundingClientRect();
        return (f.right - t.left) / t.width;
    };
    const frame = document.querySelector('#overlay-frame').contentDocument;
    return [end(document, '#seek-fill', '.seek-track'),
            end(frame, '#overlay .fill', '#overlay .progress')];
}"""
FRAME_JS = """(url) => {
    const frame = document.createElement('iframe');
    frame.id = 'overlay-frame';
    frame.src = url;
    frame.style.cssText =
        'position:fixed;right:0;bottom:0;width:520px;height:170px;border:0;z-index:50';
    document.body.append(frame);
}"""


def positions(page: Page, duration_ms: int) -> tuple[float, float]:
    dashboard, overlay = page.evaluate(BARS_JS)
    return dashboard * duration_ms, overlay * duration_ms


def assert_agree(page: Page, duration_ms: int, what: str, samples: int = 10) -> float:
    """Both bars, read together ``samples`` times over about 2 s, within AGREEMENT_MS;
    returns the last (dashboard) position."""
    gaps = []
    dashboard = 0.0
    for _ in range(samples):
        dashboard, overlay = positions(page, duration_ms)
        gaps.append(round(dashboard - overlay))
        page.wait_for_timeout(200)
    assert max(abs(gap) for gap in gaps) <= AGREEMENT_MS, f"{what}: dashboard - overlay {gaps}"
    return dashboard


def overlay_frame_shows(page: Page, uri: str) -> None:
    frame = page.frame_locator("#overlay-frame").locator("#overlay")
    expect(frame).to_have_attribute("data-item", uri)
    expect(frame).to_have_attribute("data-feed", "open")


def playing(sim: Sim) -> dict[str, Any]:
    state = sim.playback()
    if not state["is_playing"]:
        sim.app_action("play")
        state = sim.playback()
    return state


def test_dashboard_and_overlay_show_the_same_position(
    dashboard: Page, dashboard_sim: Sim, demo_server: Any
) -> None:
    sim = dashboard_sim
    state = playing(sim)
    for _ in range(20):  # a track long enough for the seeks below
        if state["duration_ms"] >= 150_000:
            break
        sim.app_action("next")
        state = sim.playback()
    sim.app_action("seek", position_ms=40_000)
    uri, duration = str(state["track_uri"]), int(state["duration_ms"])
    expect(dashboard.locator("#np-duration")).not_to_have_text("0:00")
    dashboard.evaluate(FRAME_JS, mint_overlay_token(demo_server, "side by side").url)
    overlay_frame_shows(dashboard, uri)
    wait_until(lambda: positions(dashboard, duration)[0] > 40_000, "the dashboard at the seek")
    wait_until(lambda: positions(dashboard, duration)[1] > 40_000, "the overlay at the seek")
    before = assert_agree(dashboard, duration, "playing")

    # A small seek back in the Spotify app (the poller sees it within a cadence).
    sim.app_action("seek", position_ms=int(before) - 3_000)
    wait_until(lambda: max(positions(dashboard, duration)) < before, "both pages after the seek")
    after_seek = assert_agree(dashboard, duration, "after a seek back in the Spotify app")

    # A seek made on the dashboard itself (5 s on): the overlay learns it from the feed.
    dashboard.locator("#np-heading").click()
    dashboard.keyboard.press("ArrowRight")
    wait_until(
        lambda: min(positions(dashboard, duration)) > after_seek + 6_000,
        "both pages after the dashboard's seek",
    )
    assert_agree(dashboard, duration, "after a seek on the dashboard")

    # A track change.
    sim.app_action("next")
    changed = sim.playback()
    assert changed["track_uri"] != uri
    overlay_frame_shows(dashboard, str(changed["track_uri"]))
    wait_until(
        lambda: (
            dashboard.locator("#seek").get_attribute("aria-valuemax") == str(changed["duration_ms"])
        ),
        "the dashboard on the next track",
    )
    assert_agree(dashboard, int(changed["duration_ms"]), "after a track change")
